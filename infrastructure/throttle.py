"""Growing delays after failed dashboard sign-ins, per (operator name, client address), in Redis.

A hard lock per account let anyone keep any admin out; a delay per name AND
address slows only the address that fails. From the FREE_TRIES-th failure on,
each starts a wait, doubling (1 s, 2 s, 4 s … MAX_DELAY), during which that
name is refused from that address whatever the password (a try then is not
counted). A success
clears the record; an address that is not failing is never held back.
"""
from __future__ import annotations

import hashlib
import logging

from infrastructure.redis_connection import get_redis

log = logging.getLogger(__name__)

FREE_TRIES = 3
MAX_DELAY = 15 * 60  # seconds
FORGET_AFTER = 24 * 3600  # a failure count without news for this long starts again


def _keys(name: str, address: str | None) -> tuple[str, str]:
    digest = hashlib.sha256(f"{name.strip().lower()}\0{address or 'unknown'}".encode()).hexdigest()[:32]
    return f"clip:signin-failures:{digest}", f"clip:signin-wait:{digest}"


def waiting(name: str, address: str | None) -> bool:
    """True while this name may not sign in from this address."""
    try:
        return bool(get_redis().exists(_keys(name, address)[1]))
    except Exception:  # noqa: BLE001 - Redis down: the per-address limiter still caps guessing
        log.warning("sign-in throttle unreachable", exc_info=True)
        return False


def failed(name: str, address: str | None) -> None:
    """Record a failed sign-in; from the FREE_TRIES-th on, start a doubling wait."""
    count_key, wait_key = _keys(name, address)
    try:
        redis = get_redis()
        count = redis.incr(count_key)
        redis.expire(count_key, FORGET_AFTER)
        if count >= FREE_TRIES:
            redis.set(wait_key, "1", ex=min(2 ** (count - FREE_TRIES), MAX_DELAY))
    except Exception:  # noqa: BLE001 - as in waiting()
        log.warning("sign-in throttle unreachable", exc_info=True)


def succeeded(name: str, address: str | None) -> None:
    try:
        get_redis().delete(*_keys(name, address))
    except Exception:  # noqa: BLE001 - as in waiting()
        log.warning("sign-in throttle unreachable", exc_info=True)
