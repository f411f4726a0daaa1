"""Reject (redo): a customer sends a delivered image back with a comment and, if it likes, a markup image.

The order goes to 45 Redo requested, at the top of the review queue with its own due time
(REDO_HOURS); an operator edits the last delivered mask and approves; the order renders and is
delivered again with a new FINALIMAGEURL (orders.pipeline.deliver) and a new callback. The markup
image is fetched by the same safe fetcher as every image, in a job of its own: whatever becomes of
it, the request and its comment are recorded first, so the complaint is never lost.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from infrastructure import images, storage
from infrastructure.extensions import db
from infrastructure.queues import enqueue_markup, enqueue_soon
from orders import lifecycle
from orders.checks import optional_text, required
from orders.codes import ErrorCode, FailureReason, MarkupState, Status
from orders.errors import ServiceError
from orders.intake import authenticate, http_url
from orders.lookups import customer_order
from orders.models import Order, RedoRequest, utcnow

MAX_COMMENT = 2000
MARKUP_ACTOR = "worker:fetch"


@dataclass(frozen=True)
class RedoAccepted:
    ticket: str
    status: Status
    number: int  # 1 for the order's first redo
    markup: MarkupState


def request_redo(email: str, api_key: str, ticket: str, comment: str, markup_url: str = "") -> RedoAccepted:
    customer = authenticate(email, api_key)
    comment = optional_text("Comment", required("Comment", comment), MAX_COMMENT, multiline=True) or ""
    markup = http_url("MarkupImageURL", markup_url)
    order = customer_order(customer.id, ticket)
    _check_allowed(order)
    number, now = order.redo_count + 1, utcnow()
    moved = lifecycle.move(
        order.id, Status.REDO_REQUESTED, actor=f"customer:{customer.email}", expect=[Status.DELIVERED],
        note=f"redo {number} requested: {comment[:200]}", redo_count=number,
        due_at=now + timedelta(hours=current_app.config["REDO_HOURS"]),
    )
    if not moved:  # another request for this order got there first
        db.session.rollback()
        raise _not_allowed(f"the order is {Status(order.status).wire_name}, not Delivered")
    state = MarkupState.PENDING if markup else MarkupState.NONE
    db.session.add(RedoRequest(order_id=order.id, number=number, requested_at=now, comment=comment,
                               markup_url=markup, markup_state=state))
    db.session.commit()
    if markup:
        enqueue_soon(enqueue_markup, order.id, number)
    return RedoAccepted(order.ticket, Status.REDO_REQUESTED, number, state)


def _check_allowed(order: Order) -> None:
    if order.status != Status.DELIVERED:
        raise _not_allowed(f"the order is {Status(order.status).wire_name}; only a Delivered order can be sent back")
    first = order.deliveries[0].delivered_at if order.deliveries else order.delivered_at
    window = current_app.config["REDO_WINDOW_DAYS"]
    if first is None or utcnow() - first > timedelta(days=window):
        raise _not_allowed(f"the order was delivered more than {window} days ago")
    if order.redo_count >= current_app.config["MAX_REDOS"]:
        raise _not_allowed(f"the order was already sent back {order.redo_count} times, the most allowed")


def _not_allowed(message: str) -> ServiceError:
    return ServiceError(ErrorCode.REDO_NOT_ALLOWED, message)


def latest_request(order_id: int) -> RedoRequest | None:
    """The order's newest redo request, or None if it was never sent back."""
    return db.session.scalar(select(RedoRequest).where(RedoRequest.order_id == order_id)
                             .order_by(RedoRequest.number.desc()).limit(1))


# --- the markup image (the job in workers.markup) ----------------------------------------------------


def pending_markup(order_id: int, number: int) -> RedoRequest | None:
    """The redo request whose markup still waits to be fetched; None once it is stored or given up."""
    found = db.session.scalar(select(RedoRequest).where(RedoRequest.order_id == order_id,
                                                        RedoRequest.number == number))
    return found if found is not None and found.markup_state == MarkupState.PENDING else None


def store_markup(request: RedoRequest, data: bytes, checked: images.CheckedImage) -> str:
    order = db.session.get(Order, request.order_id)
    path = f"{storage.order_dir(order.ticket)}/redo-{request.number}-markup{checked.extension}"
    storage.write_bytes(path, data)
    request.markup_path, request.markup_state = path, MarkupState.AVAILABLE
    db.session.commit()
    return "markup stored"


def markup_not_kept(order_id: int, number: int) -> str:
    """The store would not keep redo `number`'s markup past the fault retries: the redo goes on
    without it, and the operator reads why (rather than a markup left pending for ever)."""
    request = pending_markup(order_id, number)
    if request is None:
        return "skipped: not pending"
    return markup_unavailable(request, FailureReason.STORAGE_UNAVAILABLE,
                              "our file store could not keep the markup image")


def markup_unavailable(request: RedoRequest, reason: FailureReason, detail: str) -> str:
    """The markup could not be had: the redo goes on without it, and the operator reads why."""
    db.session.rollback()
    request.markup_state, request.markup_note = MarkupState.UNAVAILABLE, f"{reason.value}: {detail}"[:1000]
    db.session.commit()
    return f"markup unavailable: {reason.value}"
