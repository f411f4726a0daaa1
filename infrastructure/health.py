"""Readiness checks for load balancers: do the database and Redis each answer within a deadline?

Both checks run at once, each in a daemon thread, so a probe costs at most the
deadline however a part fails (refused, hung, slow), and a hung check never
delays the process's exit. A server whose earlier checks still hang gets no new
thread and simply counts as failing, so a dead server cannot pile up threads.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, wait
from typing import TypeVar

from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import text
from sqlalchemy.engine import Engine

DEADLINE_SECONDS = 1.0
_HANGING_CHECKS_PER_SERVER = 2
T = TypeVar("T")

# Per server, not per part: checks hanging on one database must not fail another app's (tests run several).
_slots: dict[str, threading.BoundedSemaphore] = {}
_redis_clients: dict[tuple[str, float], Redis] = {}


def failing_parts(engine: Engine, redis_url: str, deadline: float = DEADLINE_SECONDS) -> list[str]:
    """The parts ("database", "redis") that did not answer within ``deadline`` seconds; [] when both did."""
    checks = {
        "database": start_check(f"database {engine.url}", lambda: _select_one(engine)),
        "redis": start_check(f"redis {redis_url}", lambda: _ping(redis_url, deadline)),
    }
    wait(checks.values(), timeout=deadline)
    return [part for part, check in checks.items() if not _succeeded(check)]


def _succeeded(check: Future) -> bool:
    return check.done() and check.exception() is None


def start_check(server: str, probe: Callable[[], T]) -> Future[T]:
    """Run `probe` in a daemon thread; its Future holds what it returned or raised.

    Wait on it with a timeout: an unfinished one is a part that did not answer in time.
    """
    check: Future = Future()
    slots = _slots.setdefault(server, threading.BoundedSemaphore(_HANGING_CHECKS_PER_SERVER))
    if not slots.acquire(blocking=False):
        check.set_exception(TimeoutError("earlier checks of this server still hang"))
        return check

    def run() -> None:
        try:
            result = probe()
        except Exception as exc:  # noqa: BLE001 - whatever the failure, the part is not ready
            check.set_exception(exc)
        else:
            check.set_result(result)
        finally:
            slots.release()

    threading.Thread(target=run, name="readiness-check", daemon=True).start()
    return check


def _select_one(engine: Engine) -> None:
    # Through the app's own pool: a pooled connection is checked first (infrastructure.database), as
    # a request's is.
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _ping(url: str, timeout: float) -> None:
    probe_client(url, timeout).ping()


def probe_client(url: str, timeout: float = DEADLINE_SECONDS) -> Redis:
    """A client of its own: the app's waits 10 s on a socket and retries, which a probe must not."""
    if (url, timeout) not in _redis_clients:
        _redis_clients[url, timeout] = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                                      retry=Retry(NoBackoff(), 0), health_check_interval=0)
    return _redis_clients[url, timeout]
