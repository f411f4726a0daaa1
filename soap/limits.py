"""SOAP calls count against the REST API's per-key rate limit.

One limit per API key for all API calls, whichever protocol carries them:
otherwise a client over its REST limit would simply switch to SOAP. The bucket
is the one Flask-Limiter fills for the REST blueprint's shared scope (prefix,
key, scope); tests/test_soap_rate_limit.py fails if a Flask-Limiter upgrade
renames it.
"""
from __future__ import annotations

import logging
import time

from flask import current_app
from limits import RateLimitItem, parse_many

from orders.codes import ErrorCode
from orders.errors import ServiceError
from orders.extensions import API_RATE_SCOPE, limiter, rate_limit_key

log = logging.getLogger(__name__)

OPERATIONS = ("GetTemplates", "AddImage", "GetImageStatus")


class RateLimited(ServiceError):
    def __init__(self, limit: RateLimitItem, retry_after: int) -> None:
        super().__init__(ErrorCode.RATE_LIMITED, f"rate limit exceeded: {limit}")
        self.retry_after = retry_after


def count_call(operation: str, api_key: str | None, remote_addr: str | None) -> None:
    """Count one call; raise RateLimited when it is over the limit."""
    if not limiter.enabled or operation not in OPERATIONS:
        return
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    bucket = [*([prefix] if prefix else []), rate_limit_key(api_key, remote_addr), API_RATE_SCOPE]
    try:
        breach = _first_breach(parse_many(current_app.config["RATE_LIMIT"]), bucket)
    except Exception:  # noqa: BLE001 - as RATELIMIT_SWALLOW_ERRORS: a limiter outage must not stop orders
        log.warning("rate limit storage unreachable; SOAP call let through", exc_info=True)
        return
    if breach is not None:
        raise RateLimited(*breach)


def _first_breach(limits: list[RateLimitItem], bucket: list[str]) -> tuple[RateLimitItem, int] | None:
    for item in sorted(limits):
        if not limiter.limiter.hit(item, *bucket):
            reset_at = limiter.limiter.get_window_stats(item, *bucket).reset_time
            return item, max(1, int(reset_at - time.time()))
    return None
