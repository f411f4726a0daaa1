"""Counts worth keeping for a few seconds: GET Images' TOTAL over a customer's many orders.

An exact count walks every matching index entry (some 15 ms for 100,000 orders, CPU the API
needs for everything else); clients page and poll the same filters over and over. A count is
kept in Redis for LIST_TOTAL_CACHE_SECONDS, so TOTAL may lag new orders by that long. When Redis
does not answer, the count is made afresh: a cache is never a reason to fail a call.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from flask import current_app

from infrastructure.redis_connection import get_redis

log = logging.getLogger(__name__)


def remembered(scope: str, parts: tuple[object, ...], count: Callable[[], int]) -> int:
    """`count()`, or the value it gave for the same scope and parts within the last few seconds."""
    seconds = current_app.config["LIST_TOTAL_CACHE_SECONDS"]
    if seconds <= 0:
        return count()
    key = f"clip:count:{scope}:{hashlib.sha256(repr(parts).encode()).hexdigest()[:32]}"
    try:
        kept = get_redis().get(key)
    except Exception:  # noqa: BLE001 - any Redis fault: count afresh
        log.warning("count cache unavailable", exc_info=True)
        return count()
    if kept is not None:
        return int(kept)
    value = count()
    try:
        get_redis().set(key, value, ex=seconds)
    except Exception:  # noqa: BLE001 - the count is right; only its keeping failed
        log.warning("count cache unavailable", exc_info=True)
    return value
