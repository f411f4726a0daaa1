"""An idle worker waits on its queues quietly: no Redis timeouts, no backing off before the next job."""
from __future__ import annotations

import time

import pytest
from rq import Queue
from rq.exceptions import DequeueTimeout

from infrastructure import redis_connection
from workers.runner import build_worker


@pytest.fixture
def short_app_timeout(monkeypatch):
    """The app's Redis read timeout cut to 1 s (10 s in production), on clients made afresh."""
    monkeypatch.setitem(redis_connection._CLIENT_OPTIONS, "socket_timeout", 1)
    monkeypatch.setattr(redis_connection, "_clients", {})
    monkeypatch.setattr(redis_connection, "_worker_clients", {})


def test_an_idle_worker_waits_on_its_queues_longer_than_the_app_s_read_timeout(app, short_app_timeout):
    with app.app_context():
        redis_connection.get_redis().ping()  # the shared client has a connection with the 1 s timeout
        worker = build_worker(app, ["fetch"])
        start = time.monotonic()
        # No job comes: RQ's own "nothing to do" after the full wait, not Redis' read timeout.
        with pytest.raises(DequeueTimeout):
            Queue.dequeue_any(worker.queues, timeout=3, connection=worker.connection)
    assert time.monotonic() - start >= 2.9


def test_the_app_s_own_calls_keep_their_short_read_timeout(app, short_app_timeout):
    with app.app_context():
        build_worker(app, ["fetch"])
        shared = redis_connection.get_redis()
    assert shared.connection_pool.connection_kwargs["socket_timeout"] == 1
