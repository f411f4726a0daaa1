"""GET Images' TOTAL is kept a few seconds in Redis, and recounted by one caller at a time."""
from __future__ import annotations

import time

import pytest

from infrastructure import counts
from infrastructure.redis_connection import get_redis


class Counter:
    """A count that says how often it was made; its value is whatever the test sets."""

    def __init__(self, value: int) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> int:
        self.calls += 1
        return self.value


@pytest.fixture
def cached(app):
    app.config["LIST_TOTAL_CACHE_SECONDS"] = 1
    with app.app_context():
        yield app


def test_a_count_is_made_once_and_kept_for_the_period(cached, request):
    count = Counter(7)
    scope = request.node.name
    assert [counts.remembered(scope, ("a",), count) for _ in range(3)] == [7, 7, 7]
    assert count.calls == 1


def test_after_the_period_the_next_call_counts_again(cached, request):
    count = Counter(7)
    scope = request.node.name
    counts.remembered(scope, ("a",), count)
    count.value = 8
    time.sleep(1.1)
    assert counts.remembered(scope, ("a",), count) == 8
    assert count.calls == 2


def test_while_another_caller_recounts_a_stale_count_is_answered_without_counting(cached, request):
    count = Counter(7)
    scope = request.node.name
    counts.remembered(scope, ("a",), count)
    time.sleep(1.1)
    # Another process won the recount and is counting now.
    assert counts._won_recount(counts.cache_key(scope, ("a",)))
    count.value = 8
    assert counts.remembered(scope, ("a",), count) == 7
    assert count.calls == 1


def test_a_recount_that_died_holds_up_counting_no_longer_than_its_lock(cached, request, monkeypatch):
    monkeypatch.setattr(counts, "LOCK_SECONDS", 1)
    count = Counter(7)
    scope = request.node.name
    counts.remembered(scope, ("a",), count)
    time.sleep(1.1)
    assert counts._won_recount(counts.cache_key(scope, ("a",)))  # and never finishes
    count.value = 8
    time.sleep(1.1)
    assert counts.remembered(scope, ("a",), count) == 8


def test_a_count_older_than_its_stale_periods_is_not_answered(cached, request):
    count = Counter(7)
    scope = request.node.name
    counts.remembered(scope, ("a",), count)
    time.sleep(1.1)
    get_redis().delete(counts.cache_key(scope, ("a",)))  # what Redis does after STALE_PERIODS
    count.value = 8
    assert counts.remembered(scope, ("a",), count) == 8



def test_a_fresh_count_is_answered_from_the_process_without_asking_redis(cached, request, monkeypatch):
    count = Counter(7)
    scope = request.node.name
    counts.remembered(scope, ("a",), count)

    def unreachable() -> None:
        raise AssertionError("Redis was asked")

    monkeypatch.setattr(counts, "get_redis", unreachable)
    assert counts.remembered(scope, ("a",), count) == 7
    assert count.calls == 1


def test_a_count_read_from_redis_is_kept_in_the_process_no_longer_than_in_redis(cached, request):
    count = Counter(7)
    scope = request.node.name
    counts.remembered(scope, ("a",), count)
    cached.extensions["clip_counts"].clear()  # as in another worker, which has only Redis's copy
    assert counts.remembered(scope, ("a",), count) == 7
    time.sleep(1.1)
    count.value = 8
    assert counts.remembered(scope, ("a",), count) == 8
    assert count.calls == 2
