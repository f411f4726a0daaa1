"""The review service: the queue, claims with leases, mask versions, approve and reject.

The dashboard, its JSON endpoints and the `flask review` CLI all call these.
Every rule lives here: who may touch an order, when a lease runs out, what a
save or an approval does. Functions raise ServiceError and commit their work.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from PIL import Image, UnidentifiedImageError
from sqlalchemy import and_, case, or_, select

from infrastructure import metrics, storage
from infrastructure.extensions import db
from infrastructure.queues import enqueue_region, enqueue_render, enqueue_soon, regions_pending
from orders import callbacks, leases, lifecycle, masks, qa
from orders.codes import ErrorCode, RejectReason, Status
from orders.errors import ServiceError
from orders.lookups import order_by_ticket
from orders.models import Customer, MaskVersion, Operator, Order, ReviewSession, Template, utcnow

# Waiting in the queue: drafts, and delivered orders the customer sent back (these first).
QUEUED = (Status.AWAITING_REVIEW, Status.REDO_REQUESTED)
REVIEWABLE = (*QUEUED, Status.IN_REVIEW)
TEST_MODE_ACTOR = "test-mode"


@dataclass(frozen=True)
class QueueFilter:
    customer_id: int | None = None
    template_id: int | None = None
    due_within_hours: float | None = None  # only orders due within this many hours (overdue included)
    hard: bool | None = None  # only hard drafts (True), only the others (False); see orders.qa.is_hard


# --- the queue -------------------------------------------------------------------------


def _queue_query(filters: QueueFilter, taker: Operator | None = None):
    """The queue in the order shown; with `taker`, in the order claim-next gives it to that operator:
    an order QA sent back to them first, none QA sent back to someone else, and hard drafts routed by level."""
    # A test order never waits here (approve_test_order), but the queue never shows one regardless.
    query = select(Order).where(Order.status.in_([int(s) for s in QUEUED]), Order.is_test.is_(False))
    if filters.hard is not None:
        query = query.where(qa.hard_clause() if filters.hard else ~qa.hard_clause())
    if filters.customer_id:
        query = query.where(Order.customer_id == filters.customer_id)
    if filters.template_id:
        query = query.where(Order.template_id == filters.template_id)
    if filters.due_within_hours is not None:
        query = query.where(Order.due_at <= utcnow() + timedelta(hours=filters.due_within_hours))
    # Redos on top (a customer is waiting on a promise already broken once), then soonest due;
    # among equals the draft the model was least sure of.
    redo_first = case((Order.status == int(Status.REDO_REQUESTED), 0), else_=1)
    first: list = [redo_first]
    if taker is not None:
        query = query.where(or_(Order.returned_to_id.is_(None), Order.returned_to_id == taker.id))
        first = [case((Order.returned_to_id == taker.id, 0), else_=1), redo_first, *_hard_routing(taker)]
    return query.order_by(*first, Order.due_at, Order.draft_confidence.is_(None).desc(), Order.draft_confidence,
                          Order.id)


def _hard_routing(taker: Operator) -> list:
    """Hard drafts go to seniors first; to an operator only once nothing else waits, unless HARD_DRAFTS_FOR_ALL.

    After redos: a redo's customer waits on a promise already broken once, whoever takes it.
    """
    if taker.is_senior:
        return [case((qa.hard_clause(), 0), else_=1)]
    if current_app.config["HARD_DRAFTS_FOR_ALL"]:
        return []
    return [case((qa.hard_clause(), 1), else_=0)]


def queue(filters: QueueFilter = QueueFilter(), limit: int = 100) -> list[Order]:
    expire_leases()
    return list(db.session.scalars(_queue_query(filters).limit(limit)))


def queue_count(filters: QueueFilter = QueueFilter()) -> int:
    counted = _queue_query(filters).order_by(None).with_only_columns(db.func.count(Order.id))
    return db.session.scalar(counted)


def high_confidence(min_confidence: float, limit: int = 60) -> list[Order]:
    """Drafts for bulk approval: the most confident first."""
    query = (
        select(Order)
        .where(Order.status == int(Status.AWAITING_REVIEW), Order.is_test.is_(False),
               Order.draft_confidence >= min_confidence)
        .order_by(Order.draft_confidence.desc(), Order.due_at)
        .limit(limit)
    )
    return list(db.session.scalars(query))


# --- claims and leases -----------------------------------------------------------------


def claim_next(operator: Operator, filters: QueueFilter = QueueFilter()) -> Order | None:
    """Take the next order for this operator, atomically: two operators never get the same one.

    PostgreSQL locks the chosen row with FOR UPDATE SKIP LOCKED, so concurrent
    claimers each skip to a different order. SQLite has no row locks; there the
    conditional status update decides and a loser simply tries the next order.
    """
    expire_leases()
    postgres = db.engine.dialect.name == "postgresql"
    skipped: list[int] = []
    for _attempt in range(20):
        query = _queue_query(filters, taker=operator).with_only_columns(Order.id).limit(1)
        if skipped:
            query = query.where(Order.id.not_in(skipped))
        if postgres:
            query = query.with_for_update(skip_locked=True, of=Order)
        order_id = db.session.scalar(query)
        if order_id is None:
            db.session.rollback()
            return None
        if _take(operator, order_id):
            return db.session.get(Order, order_id)
        skipped.append(order_id)
    return None


def claim(operator: Operator, ticket: str) -> Order:
    """Open a chosen order for review. Re-opening an order one already holds renews its lease."""
    expire_leases()
    order = order_by_ticket(ticket)
    if order.status == Status.IN_REVIEW and order.claimed_by_id == operator.id:
        renew_lease(operator, ticket)
        return order
    if order.status not in QUEUED or not _take(operator, order.id):
        raise _not_yours(order)
    return db.session.get(Order, order.id)


def _take(operator: Operator, order_id: int) -> bool:
    moved = lifecycle.move(
        order_id,
        Status.IN_REVIEW,
        actor=_actor(operator),
        expect=QUEUED,
        claimed_by_id=operator.id,
        lease_expires_at=leases.expiry(),
    )
    if moved:
        db.session.add(ReviewSession(order_id=order_id, operator_id=operator.id))
    db.session.commit()
    return moved


def skip(operator: Operator, skipped: str | None, filters: QueueFilter = QueueFilter()) -> Order | None:
    """Claim the next order, then give `skipped` back: still held while the next is chosen, it cannot come
    straight back."""
    order = claim_next(operator, filters)
    if skipped and order is not None:
        release(operator, skipped)
    return order


def renew_lease(operator: Operator, ticket: str) -> datetime:
    return leases.renew(held_order(operator, ticket))


def release(operator: Operator, ticket: str) -> None:
    """Give an order back to the queue without a decision."""
    order = held_order(operator, ticket)
    _end_session(order.id, "released")
    lifecycle.move(order.id, back_to_queue(order.redo_count), actor=_actor(operator), expect=[Status.IN_REVIEW],
                   note="released", claimed_by_id=None, lease_expires_at=None)
    db.session.commit()


def back_to_queue(redo_count: int) -> Status:
    """Where an order goes when its operator lets go: a redo back to Redo requested, a draft to Awaiting review.

    An order in review that was ever sent back is in a redo: only delivered orders are sent back.
    """
    return Status.REDO_REQUESTED if redo_count else Status.AWAITING_REVIEW


def expire_leases() -> int:
    """Return orders whose lease ran out to the queue; returns how many."""
    expired = db.session.execute(
        select(Order.id, Order.redo_count)
        .where(Order.status == int(Status.IN_REVIEW), Order.lease_expires_at < utcnow())
    ).all()
    returned = 0
    for order_id, redo_count in expired:
        if lifecycle.move(order_id, back_to_queue(redo_count), actor="system:lease", expect=[Status.IN_REVIEW],
                          note="lease expired", claimed_by_id=None, lease_expires_at=None):
            _end_session(order_id, "expired")
            returned += 1
    db.session.commit()
    return returned


def held_order(operator: Operator, ticket: str) -> Order:
    """The order, if this operator holds a live lease on it."""
    order = order_by_ticket(ticket)
    if order.status != Status.IN_REVIEW or order.claimed_by_id != operator.id or order.lease_expires_at < utcnow():
        raise _not_yours(order)
    return order


# --- masks -----------------------------------------------------------------------------


def save_mask(operator: Operator, ticket: str, png: bytes) -> MaskVersion:
    """Store an edited mask as a new version; the machine draft and every earlier version stay."""
    order = held_order(operator, ticket)
    return add_edit(order, _valid_mask(png, mask_size(order)), source="brush", operator=operator)


def add_edit(order: Order, mask: Image.Image, *, source: str, operator: Operator) -> MaskVersion:
    """Store an operator's edited mask of an order they hold as its next version, counted as an edit."""
    version = _add_version(order, mask, source=source, operator=operator)
    _count_edit(order.id, operator.id)
    db.session.commit()
    return version


def add_region_version(order_id: int, mask: Image.Image, operator_id: int | None) -> MaskVersion | None:
    """Called by the region re-run job; None if the order left review meanwhile."""
    order = db.session.get(Order, order_id)
    if order is None or order.status not in REVIEWABLE:
        return None
    operator = db.session.get(Operator, operator_id) if operator_id else None
    version = _add_version(order, mask, source="region", operator=operator)
    if operator is not None:
        _count_edit(order_id, operator.id)
    db.session.commit()
    return version


def request_region(operator: Operator, ticket: str, box: tuple[int, int, int, int]) -> str:
    """Queue a re-run of the model on a box of the original; returns the job id."""
    order = held_order(operator, ticket)
    width, height = mask_size(order)
    x0, y0, x1, y1 = (int(v) for v in box)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(width, x1), min(height, y1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, "the region must be at least 8x8 pixels inside the image")
    limit = current_app.config["MAX_REGION_JOBS_PER_ORDER"]
    if regions_pending(order.id) >= limit:
        raise ServiceError(ErrorCode.RATE_LIMITED, f"{limit} region re-runs of this order are still waiting; "
                                                   "let them finish first")
    return enqueue_region(order.id, (x0, y0, x1, y1), operator.id).id


def mask_size(order: Order) -> tuple[int, int]:
    """The upright size of the order's masks: the original's stored size is before EXIF rotation."""
    with storage.open_stream(order.mask_path) as stream, Image.open(stream) as mask:
        return mask.size


def _valid_mask(png: bytes, size: tuple[int, int]) -> Image.Image:
    try:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
            if image.size != size:
                raise ServiceError(ErrorCode.INVALID_PARAMETER, f"the mask is {image.size[0]}x{image.size[1]}, "
                                                                f"the image {size[0]}x{size[1]}")
            image.load()
            # An RGBA canvas export carries the mask in its alpha channel.
            return image.getchannel("A") if image.mode in ("RGBA", "LA") else image.convert("L")
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise ServiceError(ErrorCode.INVALID_PARAMETER, "the mask must be a PNG image") from None


def _add_version(order: Order, mask: Image.Image, *, source: str, operator: Operator | None) -> MaskVersion:
    return masks.add(order, mask, source=source, author=_actor(operator) if operator else "worker:segment",
                     operator_id=operator.id if operator else None)


def _count_edit(order_id: int, operator_id: int) -> None:
    session = _open_session(order_id, operator_id)
    if session is not None:
        session.edits += 1


# --- decisions -------------------------------------------------------------------------


def approve(operator: Operator, ticket: str) -> Order:
    """Approve the latest mask: the order goes to rendering, or to 55 In QA when sampled (orders.qa)."""
    order = held_order(operator, ticket)
    return _approve(operator, order, expect=Status.IN_REVIEW)


def claim_and_approve(operator: Operator, ticket: str) -> Order:
    """Approve in one step an order awaiting review or already held by this operator (scripts, CLI)."""
    claim(operator, ticket)
    return approve(operator, ticket)


def claim_and_reject(operator: Operator, ticket: str, reason: str, note: str = "") -> Order:
    """Reject in one step an order awaiting review or already held by this operator (scripts, CLI)."""
    claim(operator, ticket)
    return reject(operator, ticket, reason, note)


def bulk_approve(operator: Operator, tickets: list[str]) -> list[str]:
    """Approve several drafts straight from the queue; returns the tickets approved.

    Orders another operator took meanwhile are skipped, not stolen.
    """
    approved = []
    for ticket in tickets:
        order = db.session.scalar(select(Order).where(Order.ticket == ticket))
        if order is not None and order.status == Status.AWAITING_REVIEW:
            if _approve(operator, order, expect=Status.AWAITING_REVIEW, bulk=True) is not None:
                approved.append(ticket)
    return approved


def _approve(operator: Operator, order: Order, *, expect: Status, bulk: bool = False) -> Order | None:
    order_id = order.id
    sampled = qa.sample_reason(operator, order)
    note = "approved in bulk" if bulk else "approved"
    moved = lifecycle.move(order_id, Status.IN_QA if sampled else Status.RENDERING, actor=_actor(operator),
                           expect=[expect], note=f"{note}; sampled for QA ({sampled.value})" if sampled else note,
                           claimed_by_id=None, lease_expires_at=None, returned_to_id=None)
    if not moved:
        db.session.rollback()
        return None
    if sampled:
        qa.record_sample(order_id, operator.id, sampled)
    reviewed: list[float] = []  # seconds from claim to approve; a bulk approval from the queue had no claim
    if bulk:
        now = utcnow()
        db.session.add(ReviewSession(order_id=order_id, operator_id=operator.id, started_at=now, ended_at=now,
                                     outcome="approved"))
    else:
        reviewed = [(s.ended_at - s.started_at).total_seconds() for s in _end_session(order_id, "approved")]
    db.session.commit()
    for seconds in reviewed:
        metrics.review_ended(seconds)
    if not sampled:
        _queue_render(order_id)
    return db.session.get(Order, order_id)


def approve_test_order(order_id: int) -> bool:
    """A test order's draft is approved by no person: the one such path, allowed because the render
    stamps TEST across the image. The caller commits (with the draft, so no operator ever sees it
    waiting) and then queues the render."""
    return lifecycle.move(order_id, Status.RENDERING, actor=TEST_MODE_ACTOR, expect=[Status.AWAITING_REVIEW],
                          note="test order: approved without review, rendered with a TEST watermark")


def reject(operator: Operator, ticket: str, reason: str, note: str = "") -> Order:
    """Reject with a named reason; the customer sees it in the status message."""
    order = held_order(operator, ticket)
    if order.redo_count:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, "a redo cannot be rejected: the customer already has the "
                                                        "image; fix the mask (or leave it) and approve")
    try:
        code = RejectReason(reason)
    except ValueError:
        known = ", ".join(r.value for r in RejectReason)
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"unknown reject reason {reason!r} (known: {known})") from None
    note = (note or "").strip()[:500]
    if code is RejectReason.OTHER and not note:
        raise ServiceError(ErrorCode.MISSING_PARAMETER, "a rejection for another reason needs a note")
    _end_session(order.id, "rejected")
    lifecycle.move(order.id, Status.REJECTED, actor=_actor(operator), expect=[Status.IN_REVIEW],
                   note=f"{code.value}: {note}" if note else code.value, failure_reason=code.value,
                   failure_message=note or code.label, claimed_by_id=None, lease_expires_at=None,
                   returned_to_id=None)
    db.session.commit()
    _queue_callback(order.id)
    return db.session.get(Order, order.id)


# --- lookups and helpers ---------------------------------------------------------------


def next_in_queue_after(ticket: str, filters: QueueFilter = QueueFilter()) -> Order | None:
    """The order an operator will most likely get next, so its images can be prefetched."""
    return db.session.scalar(_queue_query(filters).where(Order.ticket != ticket).limit(1))


def customers_and_templates() -> tuple[list[Customer], list[Template]]:
    """For the queue's filter menus."""
    customers = list(db.session.scalars(select(Customer).order_by(Customer.email)))
    templates = list(db.session.scalars(select(Template).order_by(Template.id)))
    return customers, templates


def _not_yours(order: Order) -> ServiceError:
    if order.status == Status.IN_REVIEW and order.lease_expires_at and order.lease_expires_at >= utcnow():
        holder = order.claimed_by.name if order.claimed_by else "another operator"
        return ServiceError(ErrorCode.INVALID_PARAMETER, f"order {order.ticket} is being reviewed by {holder}")
    if order.status in QUEUED:
        return ServiceError(ErrorCode.INVALID_PARAMETER, f"order {order.ticket} is not claimed by you; claim it first")
    return ServiceError(ErrorCode.INVALID_PARAMETER,
                        f"order {order.ticket} is {order.status_enum.wire_name}, not awaiting review")


def _open_session(order_id: int, operator_id: int) -> ReviewSession | None:
    return db.session.scalar(
        select(ReviewSession)
        .where(ReviewSession.order_id == order_id, ReviewSession.operator_id == operator_id,
               ReviewSession.ended_at.is_(None))
        .order_by(ReviewSession.id.desc())
        .limit(1)
    )


def _end_session(order_id: int, outcome: str) -> list[ReviewSession]:
    open_sessions = list(db.session.scalars(
        select(ReviewSession).where(and_(ReviewSession.order_id == order_id, ReviewSession.ended_at.is_(None)))
    ))
    for session in open_sessions:
        session.ended_at, session.outcome = utcnow(), outcome
    return open_sessions


def _actor(operator: Operator) -> str:
    return f"operator:{operator.name}"


def _queue_render(order_id: int) -> None:
    enqueue_soon(enqueue_render, order_id)


def _queue_callback(order_id: int) -> None:
    callbacks.queue_for(order_id)

