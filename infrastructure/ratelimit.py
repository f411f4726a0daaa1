"""The API's rate limits, REST and SOAP alike (a client over its REST limit cannot switch to SOAP).

Three kinds of bucket:
- every call with a body (every SOAP call, REST POSTs) per client address,
  counted before the body is parsed (RATE_LIMIT_PER_ADDRESS), so a body that
  breaks the parser is counted too;
- the calls of an account, once sign-in has found it (RATE_LIMIT): one bucket
  however the key is spelled (spaces, case), and none for a guessed key;
- failed sign-ins, per client address and per e-mail apart
  (SIGN_IN_FAILURE_LIMIT): a caller guessing keys or e-mails meets a 429,
  while the owner of an account, signing in right, is never refused for it.

Flask-Limiter provides the storage (Redis) and the fixed-window strategy;
counting a call takes one Redis round trip per bucket and little Python.
"""
from __future__ import annotations

import hashlib
import logging
import time
from contextvars import ContextVar
from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse_many

from infrastructure.extensions import limiter
from orders.codes import ErrorCode
from orders.errors import ServiceError

log = logging.getLogger(__name__)

# The address of the call being served: set by the protocol as the call comes in (REST's
# before_request, SOAP's WSGI entry), read when a sign-in fails deeper down.
_client_address: ContextVar[str | None] = ContextVar("api_client_address", default=None)


class RateLimited(ServiceError):
    def __init__(self, limit: RateLimitItem, retry_after: int) -> None:
        super().__init__(ErrorCode.RATE_LIMITED, f"rate limit exceeded: {limit}")
        self.retry_after = retry_after


@lru_cache(maxsize=8)
def _limits(setting: str) -> list[RateLimitItem]:
    return sorted(parse_many(setting))


def count_address(remote_addr: str | None, *, has_body: bool = True) -> None:
    """Note the caller's address as a call arrives and, for a call with a body, count it per address
    before anything of the body is read; raise RateLimited when over."""
    _client_address.set(remote_addr)
    if has_body:
        _hit("RATE_LIMIT_PER_ADDRESS", f"ip:{remote_addr or 'unknown'}")


def count_account(account_id: int) -> None:
    """Count a call of a signed-in account against RATE_LIMIT."""
    _hit("RATE_LIMIT", f"account:{account_id}")


def count_failed_sign_in(email: str | None) -> None:
    """Count a failed sign-in for the caller's address and for the e-mail it named."""
    _hit("SIGN_IN_FAILURE_LIMIT", f"failed-ip:{_client_address.get() or 'unknown'}")
    email = (email or "").strip().lower()
    if email:
        # Hashed: e-mails (and whatever a caller typed instead) never land in Redis as they are.
        _hit("SIGN_IN_FAILURE_LIMIT", "failed-email:" + hashlib.sha256(email.encode()).hexdigest()[:32])


def _hit(setting: str, bucket: str) -> None:
    if not limiter.enabled:
        return
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    names = [*([prefix] if prefix else []), bucket, "api"]
    try:
        for item in _limits(current_app.config[setting]):
            if not limiter.limiter.hit(item, *names):
                reset_at = limiter.limiter.get_window_stats(item, *names).reset_time
                raise RateLimited(item, max(1, int(reset_at - time.time())))
    except RateLimited:
        raise
    except Exception:  # noqa: BLE001 - as RATELIMIT_SWALLOW_ERRORS: a Redis outage must not stop orders
        log.warning("rate limit storage unreachable; call let through", exc_info=True)
