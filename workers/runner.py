"""Run RQ workers inside the Flask app.

A worker process never forks: it is a SimpleWorker (jobs run in the process
itself), and RQ's scheduler and our sweep run as threads rather than RQ's
forked scheduler process. So the ONNX session is loaded once per process and
nothing is ever forked after it exists.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from flask import Flask, current_app
from redis import Redis
from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue
from rq.scheduler import RQScheduler

from infrastructure.extensions import db
from infrastructure.queues import queue
from infrastructure.redis_connection import get_redis
from workers.sweep import heartbeat_key, sweep

log = logging.getLogger(__name__)
SWEEP_LOCK = "clip:sweep-lock"
SCHEDULER_LOCK_RETRY = 15  # seconds between tries for scheduler locks another worker holds


class AppWorker(SimpleWorker):
    def execute_job(self, job: Job, queue: Queue) -> None:
        stop = threading.Event()
        ttl = current_app.config["JOB_HEARTBEAT_SECONDS"]
        beat = threading.Thread(target=_beat, args=(self.connection, heartbeat_key(job.id), ttl, stop), daemon=True)
        beat.start()
        try:
            super().execute_job(job, queue)
        finally:
            stop.set()
            beat.join()
            # Each job starts with a fresh session: nothing stale leaks between orders.
            db.session.remove()


def run_worker(app: Flask, queue_names: Sequence[str], *, burst: bool = False, name: str | None = None) -> bool:
    """Work the queues until stopped (or, with burst, until they are empty)."""
    with app.app_context():
        worker = AppWorker(
            [queue(n) for n in queue_names],
            connection=get_redis(),
            name=name,
            maintenance_interval=app.config["WORKER_MAINTENANCE_INTERVAL"],
        )
        if "segment" in queue_names:
            from workers.model import segmenter

            segmenter()  # a missing or corrupt model stops the worker here, not every job
        if not burst:
            _forever("scheduler", _scheduler_loop(app, queue_names))
            _forever("sweeper", lambda: _sweep_loop(app))
        return worker.work(burst=burst, logging_level="INFO")


def sweep_once(app: Flask) -> int | None:
    """Run the sweep unless another process ran it within the interval."""
    interval = app.config["SWEEP_INTERVAL"]
    with app.app_context():
        if not get_redis().set(SWEEP_LOCK, "1", nx=True, ex=max(interval - 1, 1)):
            return None
        try:
            return sweep()
        finally:
            db.session.remove()


def _beat(redis: Redis, key: str, ttl: int, stop: threading.Event) -> None:
    """Keep the job's heartbeat key alive while it runs; the sweep reads it."""
    try:
        while True:
            redis.set(key, "1", ex=ttl)
            if stop.wait(ttl / 3):
                break
        redis.delete(key)
    except Exception:  # noqa: BLE001 - a lost beat only makes the sweep re-run an idempotent job
        log.warning("job heartbeat failed", exc_info=True)


def _scheduler_loop(app: Flask, queue_names: Sequence[str]) -> Callable[[], None]:
    """RQ's scheduler (delayed retries) as a thread: its own loop, but locks retried often.

    RQ would retry locks held by a dead worker's scheduler only on a maintenance
    pass; here a replacement takes over as soon as the dead one's lock expires.
    """
    with app.app_context():
        scheduler = RQScheduler(list(queue_names), connection=get_redis(), interval=1)
    last_try = 0.0

    def step() -> None:
        nonlocal last_try
        if time.monotonic() - last_try >= SCHEDULER_LOCK_RETRY:
            scheduler.acquire_locks()
            last_try = time.monotonic()
        if scheduler.acquired_locks:
            scheduler.heartbeat()
            scheduler.enqueue_scheduled_jobs()
        time.sleep(scheduler.interval)

    return step


def _sweep_loop(app: Flask) -> None:
    sweep_once(app)
    time.sleep(app.config["SWEEP_INTERVAL"])


def _forever(name: str, step: Callable[[], None]) -> None:
    def loop() -> None:
        while True:
            try:
                step()
            except Exception:  # noqa: BLE001 - one failed round must not stop the next
                log.exception("%s round failed", name)
                time.sleep(5)

    threading.Thread(target=loop, name=name, daemon=True).start()
