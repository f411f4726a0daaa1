"""Job: the machine-made draft mask of an order, then the review queue."""
from __future__ import annotations

import logging

from infrastructure import storage
from infrastructure.extensions import db
from orders import lifecycle
from orders.codes import FailureReason, Status
from orders.models import MaskVersion, Order
from segmentation.draft import make_draft, save_draft
from workers import model
from workers.outcomes import fail_order

log = logging.getLogger(__name__)
ACTOR = "worker:segment"


def draft_order(order_id: int) -> str:
    """Safe to run twice: only an order still in Segmenting is drafted, and only one run moves it on."""
    order = db.session.get(Order, order_id)
    if order is None or order.status != Status.SEGMENTING:
        return "skipped: not in Segmenting"
    folder = storage.order_dir(order.ticket)
    mask_path, preview_path = f"{folder}/mask-v0.png", f"{folder}/preview.jpg"
    try:
        source = storage.absolute(order.original_path)
        draft = make_draft(model.segmenter(), source)
        save_draft(draft, source, storage.absolute(mask_path), storage.absolute(preview_path))
    except Exception as exc:  # noqa: BLE001 - a model fault fails this order, never the worker
        log.exception("drafting order %s failed", order_id)
        return fail_order(order_id, FailureReason.SEGMENTATION_FAILED, f"{type(exc).__name__}: {exc}", actor=ACTOR)
    return _attach(order, draft, mask_path, preview_path)


def _attach(order: Order, draft, mask_path: str, preview_path: str) -> str:
    moved = lifecycle.move(
        order.id,
        Status.AWAITING_REVIEW,
        actor=ACTOR,
        expect=[Status.SEGMENTING],
        note=f"draft confidence {draft.confidence:.3f}, inference {draft.inference_ms:.0f} ms",
        draft_confidence=draft.confidence,
        draft_inference_ms=draft.inference_ms,
        preview_path=preview_path,
        mask_path=mask_path,
    )
    if moved:
        db.session.add(MaskVersion(order_id=order.id, number=0, path=mask_path, sha256=storage.sha256_of(mask_path),
                                   source="model", author=ACTOR))
    db.session.commit()
    return "drafted" if moved else "skipped: moved on meanwhile"


def redraft_region_job(order_id: int, box: list[int], operator_id: int | None) -> str:
    """Re-run the model on a box of the original and merge it into the latest mask as a new version."""
    from PIL import Image

    from orders.review import add_region_version
    from segmentation.draft import redraft_region

    order = db.session.get(Order, order_id)
    if order is None or order.status not in (Status.AWAITING_REVIEW, Status.IN_REVIEW):
        return "skipped: not in review"
    with Image.open(storage.absolute(order.mask_path)) as current:
        merged = redraft_region(model.segmenter(), storage.absolute(order.original_path), current.convert("L"),
                                tuple(box))
    version = add_region_version(order_id, merged, operator_id)
    return f"version {version.number}" if version else "skipped: left review meanwhile"
