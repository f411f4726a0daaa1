"""Job: download an order's image, check it, store it, and hand the order to the draft job."""
from __future__ import annotations

import logging

from flask import current_app
from rq import get_current_job

from infrastructure import fetcher, images, storage
from infrastructure.extensions import db
from infrastructure.queues import enqueue_segment
from orders import lifecycle
from orders.codes import FailureReason, Status
from orders.errors import ProcessingError
from orders.models import Order
from workers.outcomes import fail_order

log = logging.getLogger(__name__)
ACTOR = "worker:fetch"


def fetch_order_image(order_id: int) -> str:
    """Safe to run twice: an order that already left Received is left alone."""
    order = db.session.get(Order, order_id)
    if order is None or order.status != Status.RECEIVED:
        return "skipped: not in Received"
    try:
        data = fetcher.fetch(
            order.image_url,
            max_bytes=current_app.config["MAX_IMAGE_BYTES"],
            allow_private=current_app.config["FETCH_ALLOW_PRIVATE_NETWORKS"],
        )
        checked = images.check_image(data, max_pixels=current_app.config["MAX_IMAGE_PIXELS"])
    except ProcessingError as exc:
        if exc.retryable and _retries_left():
            raise  # RQ schedules the next attempt after its backoff interval
        return fail_order(order_id, exc.reason, exc.message, actor=ACTOR)
    except Exception as exc:
        if _retries_left():
            raise
        log.exception("fetching order %s failed unexpectedly", order_id)
        return fail_order(order_id, FailureReason.INTERNAL_ERROR,
                          f"unexpected error while fetching: {type(exc).__name__}",
                          actor=ACTOR)
    return _store_original(order, data, checked)


def _store_original(order: Order, data: bytes, checked: images.CheckedImage) -> str:
    # The name is fixed per order, so a second run rewrites the same file.
    relpath = f"{storage.order_dir(order.ticket)}/original{checked.extension}"
    storage.write_bytes(relpath, data)
    moved = lifecycle.move(
        order.id,
        Status.SEGMENTING,
        actor=ACTOR,
        expect=[Status.RECEIVED],
        note=f"{checked.format} {checked.width}x{checked.height}, {len(data)} bytes",
        original_path=relpath,
        original_sha256=checked.sha256,
        original_format=checked.format,
        original_width=checked.width,
        original_height=checked.height,
    )
    db.session.commit()
    if not moved:
        return "skipped: moved on meanwhile"
    _queue_draft(order.id)
    return "stored"


def _queue_draft(order_id: int) -> None:
    try:
        enqueue_segment(order_id)
    except Exception:  # noqa: BLE001 - the order is safe in Segmenting; the sweep queues it
        log.warning("could not queue the draft of order %s; the sweep will", order_id, exc_info=True)


def _retries_left() -> bool:
    job = get_current_job()
    return bool(job is not None and job.retries_left)
