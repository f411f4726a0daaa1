"""Re-queue orders whose job is gone: Redis was down when it should have been
queued, or the worker running it died (machine lost, process killed).

A job counts as alive while it is queued or scheduled, or while it is started
AND its worker keeps the job's heartbeat key fresh (see workers.runner). RQ
alone would notice a dead worker's job only after its heartbeat TTL (the job
timeout plus a minute) and then only on a maintenance pass.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.registry import StartedJobRegistry

from infrastructure.extensions import db
from infrastructure.queues import (
    callback_job_id,
    enqueue_callback,
    enqueue_fetch,
    enqueue_markup,
    enqueue_render,
    enqueue_segment,
    fetch_job_id,
    markup_job_id,
    render_job_id,
    segment_job_id,
)
from infrastructure.redis_connection import get_redis
from orders.codes import CallbackState, MarkupState, Status
from orders.models import Order, RedoRequest, utcnow

log = logging.getLogger(__name__)

# The job that moves an order on from each waiting status.
PENDING_WORK: dict[Status, tuple[Callable[[int], str], Callable[[int], Job]]] = {
    Status.RECEIVED: (fetch_job_id, enqueue_fetch),
    Status.SEGMENTING: (segment_job_id, enqueue_segment),
    Status.RENDERING: (render_job_id, enqueue_render),
}

_WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def heartbeat_key(job_id: str) -> str:
    return f"clip:job-alive:{job_id}"


def sweep() -> int:
    """Enqueue every waiting order without a live job; returns how many."""
    grace = timedelta(seconds=current_app.config["SWEEP_GRACE_SECONDS"])
    stale = db.session.execute(
        db.select(Order.id, Order.status).where(
            Order.status.in_([int(s) for s in PENDING_WORK]), Order.updated_at < utcnow() - grace
        )
    ).all()
    db.session.commit()  # end the read transaction before the slow part
    requeued = 0
    for order_id, status in stale:
        job_id_of, enqueue = PENDING_WORK[Status(status)]
        if not _job_alive(job_id_of(order_id)):
            enqueue(order_id)
            requeued += 1
    requeued += _pending_callbacks(grace) + _pending_markups(grace)
    if requeued:
        log.info("sweep re-queued %d job(s)", requeued)
    return requeued


def _pending_callbacks(grace: timedelta) -> int:
    """Callbacks of finished orders whose job is gone (scheduled retries count as alive)."""
    pending = db.session.scalars(
        db.select(Order.id).where(Order.callback_state == CallbackState.PENDING, Order.updated_at < utcnow() - grace)
    ).all()
    db.session.commit()
    requeued = 0
    for order_id in pending:
        if not _job_alive(callback_job_id(order_id)):
            enqueue_callback(order_id)
            requeued += 1
    return requeued


def _pending_markups(grace: timedelta) -> int:
    """Markup images of redo requests still waiting to be fetched whose job is gone."""
    pending = db.session.execute(
        db.select(RedoRequest.order_id, RedoRequest.number).where(
            RedoRequest.markup_state == MarkupState.PENDING, RedoRequest.requested_at < utcnow() - grace)
    ).all()
    db.session.commit()
    requeued = 0
    for order_id, number in pending:
        if not _job_alive(markup_job_id(order_id, number)):
            enqueue_markup(order_id, number)
            requeued += 1
    return requeued


def _job_alive(job_id: str) -> bool:
    redis = get_redis()
    try:
        job = Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status == JobStatus.QUEUED and not _in_its_queue(job):
        # Queued, yet in no queue: a worker took its id off the queue (RQ marks a job started only after)
        # and then lost Redis, or died, in between. Nothing will ever run it.
        _forget_dead_execution(job)
        return False
    if status in _WAITING:
        return True
    if status == JobStatus.STARTED and redis.exists(heartbeat_key(job_id)):
        return True
    if status == JobStatus.STARTED:
        _forget_dead_execution(job)
    return False


def _in_its_queue(job: Job) -> bool:
    return Queue(job.origin, connection=job.connection).get_job_position(job.id) is not None


def _forget_dead_execution(job: Job) -> None:
    """Drop the dead run from RQ's started registry and intermediate queue, so RQ's own
    clean-up does not later take the re-queued run for the abandoned one."""
    registry = StartedJobRegistry(job.origin, connection=job.connection)
    prefix = f"{job.id}:".encode()
    stale = [member for member in job.connection.zrange(registry.key, 0, -1)
             if member.startswith(prefix) or member == job.id.encode()]
    if stale:
        job.connection.zrem(registry.key, *stale)
    job.connection.lrem(IntermediateQueue(Queue(job.origin, connection=job.connection).key, job.connection).key, 0,
                        job.id)
    log.warning("job %s was taken by a worker that is gone; re-queueing", job.id)
