"""Counts worth keeping for a few seconds: GET Images' TOTAL over a customer's many orders.

An exact count walks every matching index entry (some 15-20 ms for 100,000 orders, CPU the API
needs for everything else); clients page and poll the same filters over and over. A count is
kept in Redis for LIST_TOTAL_CACHE_SECONDS, so TOTAL may lag new orders by that long (and by one
count's time while it is made again). When Redis does not answer, the count is made afresh: a
cache is never a reason to fail a call.

Each process also keeps what it read in memory until the value's own end of freshness, so a
client paging and polling costs no Redis round trip for TOTAL either, and TOTAL lags no more
than it would from Redis alone.

When a kept count goes stale, one request counts again (it takes a short lock) while the others
answer the last value meanwhile: without that, every client polling the same filters would count
at the same moment, every LIST_TOTAL_CACHE_SECONDS, and that burst set GET Images' p99.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from flask import current_app

from infrastructure.redis_connection import get_redis

log = logging.getLogger(__name__)

# A stale value is still served for this many periods while one request counts again; past
# that it is gone, and the next caller counts before answering.
STALE_PERIODS = 3
# The recount lock's life: longer than any count, short enough that a process that died
# holding it delays the next count by no more than this.
LOCK_SECONDS = 10


def remembered(scope: str, parts: tuple[object, ...], count: Callable[[], int]) -> int:
    """`count()`, or the value it gave for the same scope and parts within the last few seconds."""
    seconds = current_app.config["LIST_TOTAL_CACHE_SECONDS"]
    if seconds <= 0:
        return count()
    key = cache_key(scope, parts)
    local = _in_memory().get(key)
    if local is not None and time.time() < local[1]:
        return local[0]
    try:
        kept = get_redis().get(key)
    except Exception:  # noqa: BLE001 - any Redis fault: count afresh
        log.warning("count cache unavailable", exc_info=True)
        return count()
    if kept is not None:
        value, fresh_until = _parsed(kept)
        if time.time() < fresh_until:
            _keep_in_memory(key, value, fresh_until)
            return value
        if not _won_recount(key):
            return value
    return _count_and_keep(key, count, seconds)


def cache_key(scope: str, parts: tuple[object, ...]) -> str:
    return f"clip:count:{scope}:{hashlib.sha256(repr(parts).encode()).hexdigest()[:32]}"


def _count_and_keep(key: str, count: Callable[[], int], seconds: int) -> int:
    value = count()
    fresh_until = time.time() + seconds
    _keep_in_memory(key, value, fresh_until)
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.set(key, f"{value} {fresh_until:.3f}", ex=seconds * STALE_PERIODS)
        pipe.delete(key + ":recount")
        pipe.execute()
    except Exception:  # noqa: BLE001 - the count is right; only its keeping failed
        log.warning("count cache unavailable", exc_info=True)
    return value


# Per app (so per process in production, and per test app in the tests), at most this many counts.
_IN_MEMORY_MAX = 10_000


def _in_memory() -> dict[str, tuple[int, float]]:
    return current_app.extensions.setdefault("clip_counts", {})


def _keep_in_memory(key: str, value: int, fresh_until: float) -> None:
    kept = _in_memory()
    if len(kept) >= _IN_MEMORY_MAX:
        kept.clear()  # simpler than evicting one by one, and refilled from Redis at one GET a count
    kept[key] = (value, fresh_until)


def _won_recount(key: str) -> bool:
    """True for the one caller that counts a stale value again."""
    try:
        return bool(get_redis().set(key + ":recount", 1, nx=True, ex=LOCK_SECONDS))
    except Exception:  # noqa: BLE001 - cannot agree on one counter: this one counts
        return True


def _parsed(kept: bytes) -> tuple[int, float]:
    value, _, fresh_until = kept.decode().partition(" ")
    return int(value), float(fresh_until or 0)
