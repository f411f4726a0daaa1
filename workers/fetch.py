"""Job: download an order's image, check it, store it, and hand the order to the draft job."""
from __future__ import annotations

import logging

from rq import get_current_job

from orders import pipeline
from orders.codes import FailureReason, Status
from orders.errors import ProcessingError
from workers.faults import survives_faults

log = logging.getLogger(__name__)
ACTOR = pipeline.FETCH_ACTOR


@survives_faults(ACTOR)
def fetch_order_image(order_id: int) -> str:
    """Safe to run twice: an order that already left Received is left alone.

    A download fault spends the retries of FETCH_RETRY_INTERVALS; a fault of
    the store or the database (storing the original) those of survives_faults.
    """
    order = pipeline.order_in(order_id, Status.RECEIVED)
    if order is None:
        return "skipped: not in Received"
    try:
        data, checked = pipeline.download(order.image_url)
    except ProcessingError as exc:
        if exc.retryable and _retries_left():
            raise  # RQ schedules the next attempt after its backoff interval
        return pipeline.fail(order_id, exc.reason, exc.message, actor=ACTOR)
    except Exception as exc:
        if _retries_left():
            raise
        log.exception("fetching order %s failed unexpectedly", order_id)
        return pipeline.fail(order_id, FailureReason.INTERNAL_ERROR,
                             f"unexpected error while fetching: {type(exc).__name__}", actor=ACTOR)
    return pipeline.store_original(order, data, checked)


def _retries_left() -> bool:
    job = get_current_job()
    return bool(job is not None and job.retries_left)
