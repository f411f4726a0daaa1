"""Run RQ workers inside the Flask app.

A SimpleWorker runs jobs in its own process instead of forking per job, so
heavy resources (the ONNX session) load once per worker process and are never
created before a fork. Every worker also runs the periodic sweep; a Redis lock
makes one sweep per interval across the whole fleet.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from flask import Flask
from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue

from orders.extensions import db
from workers.connection import get_redis
from workers.queues import queue
from workers.sweep import sweep

log = logging.getLogger(__name__)
SWEEP_LOCK = "clip:sweep-lock"


class AppWorker(SimpleWorker):
    def execute_job(self, job: Job, queue: Queue) -> None:
        try:
            super().execute_job(job, queue)
        finally:
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
        if not burst:
            _start_sweeper(app)
        return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


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


def _start_sweeper(app: Flask) -> None:
    def loop() -> None:
        while True:
            try:
                sweep_once(app)
            except Exception:  # noqa: BLE001 - a failed sweep must not stop the next one
                log.exception("sweep failed")
            time.sleep(app.config["SWEEP_INTERVAL"])

    threading.Thread(target=loop, name="sweeper", daemon=True).start()
