"""Re-queue orders whose job is gone: Redis was down at POST time, or a worker died."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from orders.codes import Status
from orders.extensions import db
from orders.models import Order, utcnow
from workers.connection import get_redis
from workers.queues import enqueue_fetch, fetch_job_id

log = logging.getLogger(__name__)

_ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def sweep() -> int:
    """Enqueue every order left in Received without a live job; returns how many."""
    grace = timedelta(seconds=current_app.config["SWEEP_GRACE_SECONDS"])
    stale = db.session.scalars(
        db.select(Order.id).where(Order.status == int(Status.RECEIVED), Order.updated_at < utcnow() - grace)
    ).all()
    db.session.commit()  # end the read transaction before the slow part
    requeued = 0
    for order_id in stale:
        if not _job_alive(fetch_job_id(order_id)):
            enqueue_fetch(order_id)
            requeued += 1
    if requeued:
        log.info("sweep re-queued %d order(s)", requeued)
    return requeued


def _job_alive(job_id: str) -> bool:
    try:
        status = Job.fetch(job_id, connection=get_redis()).get_status(refresh=False)
    except NoSuchJobError:
        return False
    return status in _ALIVE
