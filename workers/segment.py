"""Jobs: the machine-made draft mask of an order, and an operator's re-run of one region."""
from __future__ import annotations

import logging

from infrastructure.queues import region_done
from orders import pipeline
from orders.codes import FailureReason, Status
from workers import model
from workers.faults import PASSING, survives_faults

log = logging.getLogger(__name__)
ACTOR = pipeline.SEGMENT_ACTOR


@survives_faults(ACTOR)
def draft_order(order_id: int) -> str:
    """Safe to run twice: only an order still in Segmenting is drafted, and only one run moves it on."""
    order = pipeline.order_in(order_id, Status.SEGMENTING)
    if order is None:
        return "skipped: not in Segmenting"
    try:
        return pipeline.draft(order, model.segmenter())
    except PASSING:
        raise  # the store or the database, not the image: survives_faults retries
    except Exception as exc:  # noqa: BLE001 - a model fault fails this order, never the worker
        log.exception("drafting order %s failed", order_id)
        return pipeline.fail(order_id, FailureReason.SEGMENTATION_FAILED, f"{type(exc).__name__}: {exc}", actor=ACTOR)


@survives_faults(None)
def redraft_region_job(order_id: int, box: list[int], operator_id: int | None) -> str:
    """Re-run the model on a box of the original and merge it into the latest mask as a new version."""
    try:
        order = pipeline.order_in(order_id, Status.AWAITING_REVIEW, Status.IN_REVIEW)
        if order is None:
            return "skipped: not in review"
        x0, y0, x1, y1 = box
        return pipeline.redraft(order, model.segmenter(), (x0, y0, x1, y1), operator_id)
    finally:
        region_done(order_id)
