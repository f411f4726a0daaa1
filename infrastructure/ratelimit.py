"""The API's rate limit: one bucket per API key for every call, REST or SOAP.

Flask-Limiter provides the storage (Redis) and the fixed-window strategy;
counting a call here takes one Redis round trip and little Python, which
matters on the busiest paths. Otherwise a client over its REST limit could
simply switch to SOAP.
"""
from __future__ import annotations

import logging
import time
from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse_many

from infrastructure.extensions import API_RATE_SCOPE, limiter, rate_limit_key
from orders.codes import ErrorCode
from orders.errors import ServiceError

log = logging.getLogger(__name__)


class RateLimited(ServiceError):
    def __init__(self, limit: RateLimitItem, retry_after: int) -> None:
        super().__init__(ErrorCode.RATE_LIMITED, f"rate limit exceeded: {limit}")
        self.retry_after = retry_after


@lru_cache(maxsize=8)
def _limits(setting: str) -> list[RateLimitItem]:
    return sorted(parse_many(setting))


def count_call(api_key: str | None, remote_addr: str | None) -> None:
    """Count one API call; raise RateLimited when it is over RATE_LIMIT."""
    if not limiter.enabled:
        return
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    bucket = [*([prefix] if prefix else []), rate_limit_key(api_key, remote_addr), API_RATE_SCOPE]
    try:
        for item in _limits(current_app.config["RATE_LIMIT"]):
            if not limiter.limiter.hit(item, *bucket):
                reset_at = limiter.limiter.get_window_stats(item, *bucket).reset_time
                raise RateLimited(item, max(1, int(reset_at - time.time())))
    except RateLimited:
        raise
    except Exception:  # noqa: BLE001 - as RATELIMIT_SWALLOW_ERRORS: a Redis outage must not stop orders
        log.warning("rate limit storage unreachable; call let through", exc_info=True)
