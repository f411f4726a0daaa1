"""Run RQ workers inside the Flask app.

A worker process never forks: it is a SimpleWorker (jobs run in the process
itself), and RQ's scheduler and our sweep run as threads rather than RQ's
forked scheduler process. So the ONNX session is loaded once per process and
nothing is ever forked after it exists.

A worker process outlives any Redis outage: RQ's work loop quits when Redis
fails under a running job (finishing the job needs Redis), so run_worker waits
for Redis with backoff and starts the loop again in the same process, model
and all. The interrupted job's order is in the database; the sweep moves it on.
"""
from __future__ import annotations

import contextvars
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue
from rq.scheduler import RQScheduler
from rq.scripts import release_lock

from infrastructure import log_context, worker_registry
from infrastructure.extensions import db
from infrastructure.queues import queue
from infrastructure.redis_connection import get_redis, get_worker_redis
from orders.lookups import ticket_of
from workers.faults import DATABASE_FAULTS
from workers.sweep import heartbeat_key, sweep

if TYPE_CHECKING:
    from segmentation.sessions import Segmenter  # imported for real only by segment workers

log = logging.getLogger(__name__)
SWEEP_LOCK = "clip:sweep-lock"
SCHEDULER_LOCK_RETRY = 5  # seconds between tries for scheduler locks another worker holds
SCHEDULER_ALIVE_SECONDS = 5  # a scheduler that has not said so for this long is taken as dead
REDIS_FAULTS = (RedisConnectionError, RedisTimeoutError)
# RQ keeps a worker's key worker_ttl + 60 s after its last heartbeat: a killed worker leaves
# `rq info` within 90 s instead of RQ's default 8 minutes (the job beat refreshes it during long jobs).
WORKER_TTL = 30
MAX_REDIS_WAIT = 10  # seconds: the longest gap between two tries to reach Redis again


class AppWorker(SimpleWorker):
    stopping = False  # a stop was asked for (SIGTERM, Ctrl-C), as opposed to a loop that Redis broke
    model: Segmenter | None = None  # a segment worker's session, announced with every heartbeat

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        super().heartbeat(timeout, pipeline)
        if self.model is not None:
            worker_registry.announce(self.connection, self.name, model=self.model.model_name,
                                     providers=self.model.providers, ttl=(timeout or WORKER_TTL) + 60)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        super().request_stop(signum, frame)

    def execute_job(self, job: Job, queue: Queue) -> None:
        # Every line logged while the job runs (its own, the service layer's, RQ's "Job OK") names the job
        # and its order's ticket.
        with log_context.bound(job_id=job.id, ticket=_ticket_of(job)):
            stop = threading.Event()
            ttl = current_app.config["JOB_HEARTBEAT_SECONDS"]
            # The beat's warnings name the job too: it runs in a copy of this context.
            beat = threading.Thread(target=contextvars.copy_context().run,
                                    args=(_beat, self, heartbeat_key(job.id), ttl, stop), daemon=True)
            beat.start()
            try:
                super().execute_job(job, queue)
            finally:
                stop.set()
                beat.join()
                # Each job starts with a fresh session: nothing stale leaks between orders.
                db.session.remove()


def _ticket_of(job: Job) -> str | None:
    """The ticket of the order a job works on (every job takes the order's id first), for its log lines."""
    try:
        order_id = job.args[0] if job.args else None
    except Exception:  # noqa: BLE001 - a job whose arguments cannot be read fails in RQ, not here
        return None
    if not isinstance(order_id, int):
        return None
    try:
        return ticket_of(order_id)
    except DATABASE_FAULTS:
        return None  # the job meets the fault itself and retries (workers.faults); its lines lack the ticket
    finally:
        # The job starts as it did without the look-up: no transaction open, none half-failed.
        try:
            db.session.rollback()
        except DATABASE_FAULTS:
            db.session.remove()


def run_worker(app: Flask, queue_names: Sequence[str], *, burst: bool = False, name: str | None = None) -> bool:
    """Work the queues until stopped (or, with burst, until they are empty)."""
    with app.app_context():
        model = None
        if "segment" in queue_names:
            from segmentation.sessions import Segmenter
            from workers.model import segmenter

            loaded = segmenter()  # a missing or corrupt model stops the worker here, not every job
            if isinstance(loaded, Segmenter):  # a test may stand in its own model
                model = loaded
                log.info("segment worker: model %s on %s (loaded in %.0f ms, optimized graph: %s)", model.model_name,
                         ", ".join(model.providers), model.load_ms, model.optimized)
        scheduler = None if burst else RQScheduler(list(queue_names), connection=get_redis(), interval=1)
        stopped = threading.Event()
        if scheduler is not None:
            scheduling = _forever("scheduler", _scheduler_step(scheduler, queue_names), stopped)
            _forever("sweeper", lambda: _sweep_loop(app), stopped)
        while True:
            try:
                worker = build_worker(app, queue_names, name)
            except REDIS_FAULTS:  # RQ's worker names its connection at once: Redis down at start, or gone again
                log.warning("worker: Redis unreachable; working as soon as it answers")
                _wait_for_redis()
                continue
            worker.model = model
            try:
                worked = worker.work(burst=burst, logging_level="INFO")
            except REDIS_FAULTS:
                log.warning("worker %s: Redis failed under the work loop", worker.name, exc_info=True)
                worked = False
            if burst or worker.stopping:
                if scheduler is not None:
                    stopped.set()
                    scheduling.join(timeout=5)  # so it cannot take a lock again after the release
                    _hand_over(scheduler)
                return worked
            log.warning("worker %s: lost Redis; working again as soon as it answers", worker.name)
            _wait_for_redis()
            _bury(worker)


def build_worker(app: Flask, queue_names: Sequence[str], name: str | None = None) -> AppWorker:
    """The RQ worker for these queues, on a Redis client of its own (see get_worker_redis)."""
    return AppWorker(
        [queue(n) for n in queue_names],
        connection=get_worker_redis(),
        name=name,
        maintenance_interval=app.config["WORKER_MAINTENANCE_INTERVAL"],
        worker_ttl=WORKER_TTL,
    )


def _wait_for_redis() -> None:
    """Ping Redis with growing gaps (1 s doubling to MAX_REDIS_WAIT) until it answers.

    Nothing runs meanwhile, so a stop signal simply ends the process.
    """
    def leave(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    gap = 1.0
    while True:
        try:
            get_redis().ping()
            log.warning("Redis answers again")
            return
        except REDIS_FAULTS:
            time.sleep(gap)
            gap = min(gap * 2, MAX_REDIS_WAIT)


def _bury(worker: AppWorker) -> None:
    """Register the broken loop's death (Redis was down when it ended), so it is not listed as a live worker."""
    try:
        worker.register_death()
        worker.unsubscribe()
    except REDIS_FAULTS:
        log.warning("could not unregister worker %s", worker.name, exc_info=True)


def _hand_over(scheduler: RQScheduler) -> None:
    """On a clean stop, free the scheduler locks at once: another worker's scheduler takes them
    within SCHEDULER_LOCK_RETRY."""
    try:
        scheduler.release_locks()
    except REDIS_FAULTS:
        log.warning("could not release the scheduler locks; they expire within %d s", scheduler.interval + 60)


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


def _beat(worker: AppWorker, key: str, ttl: int, stop: threading.Event) -> None:
    """Keep the job's heartbeat key (the sweep reads it) and the worker's own key alive while it runs.

    Through a Redis outage it keeps trying: were it to stop, the sweep would
    take the still-running job for dead once Redis is back and run it twice.
    """
    failing = False
    while True:
        try:
            worker.connection.set(key, "1", ex=ttl)
            worker.heartbeat()
            failing = False
        except REDIS_FAULTS:
            if not failing:
                log.warning("job heartbeat failed; trying again every %.0f s", ttl / 3, exc_info=True)
            failing = True
        if stop.wait(ttl / 3):
            break
    try:
        worker.connection.delete(key)
    except REDIS_FAULTS:
        log.warning("could not clear the heartbeat of a finished job; it expires in %d s", ttl)


def _scheduler_step(scheduler: RQScheduler, queue_names: Sequence[str]) -> Callable[[], None]:
    """RQ's scheduler (delayed retries) as a thread: its own loop, but locks taken over quickly.

    RQ lets a scheduler's lock live a minute after its last heartbeat, so a
    killed worker would hold back every scheduled retry that long. Each
    scheduler here also keeps a short "alive" key; a lock whose holder's key
    has expired is freed and taken, within about SCHEDULER_ALIVE_SECONDS +
    SCHEDULER_LOCK_RETRY of the kill.
    """
    last_try = 0.0

    def step() -> None:
        nonlocal last_try
        scheduler.connection.set(scheduler_alive_key(scheduler.name), "1", ex=SCHEDULER_ALIVE_SECONDS)
        if time.monotonic() - last_try >= SCHEDULER_LOCK_RETRY:
            _free_locks_of_dead_schedulers(scheduler, queue_names)
            scheduler.acquire_locks()
            last_try = time.monotonic()
        if scheduler.acquired_locks:
            scheduler.heartbeat()
            scheduler.enqueue_scheduled_jobs()
        time.sleep(scheduler.interval)

    return step


def scheduler_alive_key(name: str) -> str:
    return f"clip:scheduler-alive:{name}"


def _free_locks_of_dead_schedulers(scheduler: RQScheduler, queue_names: Sequence[str]) -> None:
    redis = scheduler.connection
    for name in queue_names:
        lock = RQScheduler.get_locking_key(name)
        holder = redis.get(lock)
        if holder is None or holder.decode() == scheduler.name:
            continue
        if not redis.exists(scheduler_alive_key(holder.decode())) and release_lock(redis, lock, holder.decode()):
            log.warning("scheduler %s is gone; taking over the scheduled jobs of queue %s", holder.decode(), name)


def _sweep_loop(app: Flask) -> None:
    sweep_once(app)
    time.sleep(app.config["SWEEP_INTERVAL"])


def _forever(name: str, step: Callable[[], None], stopped: threading.Event) -> threading.Thread:
    def loop() -> None:
        while not stopped.is_set():
            try:
                step()
            except REDIS_FAULTS as exc:
                log.warning("%s: Redis unreachable (%s); next round in 5 s", name, exc)
                time.sleep(5)
            except Exception:  # noqa: BLE001 - one failed round must not stop the next
                log.exception("%s round failed", name)
                time.sleep(5)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread
