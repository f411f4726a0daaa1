"""QA: a senior's second check of sampled approvals (55 In QA), and which drafts count as hard.

orders.review asks `sample_reason` at every approval; a sampled order waits in 55 In QA until a
senior passes it (→ 60 Rendering) or sends it back (→ 50 In review, held by the operator who
approved it, with a note pinned to a point of the image). Seniors take QA orders from their own
list (the dashboard's QA tab), not from the review queue's claim-next: a check is a different task
from a review, and keeping the two apart keeps claim-next's order simple.
"""
from __future__ import annotations

import random
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from infrastructure.extensions import db
from infrastructure.queues import enqueue_render, enqueue_soon
from orders import leases, lifecycle, previews
from orders.codes import ErrorCode, QaOutcome, QaReason, Status
from orders.errors import ServiceError
from orders.lookups import order_by_ticket
from orders.models import Operator, Order, QaCheck, ReviewSession, utcnow

MAX_NOTE = 1000


# --- hard drafts ---------------------------------------------------------------------------


def hard_threshold() -> float:
    return float(current_app.config["HARD_DRAFT_CONFIDENCE"])


def is_hard(order: Order) -> bool:
    """A draft the model was unsure of: confidence below HARD_DRAFT_CONFIDENCE.

    Derived from the stored confidence at read time, not stored as a flag, so changing the setting
    re-marks every waiting order at once. An order with no recorded confidence is not marked.
    """
    return order.draft_confidence is not None and order.draft_confidence < hard_threshold()


def hard_clause() -> ColumnElement[bool]:
    """is_hard as SQL, for the queue's filter and claim-next's order."""
    return and_(Order.draft_confidence.is_not(None), Order.draft_confidence < hard_threshold())


# --- sampling ------------------------------------------------------------------------------


def sample_reason(operator: Operator, order: Order) -> QaReason | None:
    """Whether this approval goes to 55 In QA, and why; None: straight to rendering.

    Seniors are never sampled, nor test orders. A re-approval of an order QA sent back is always
    checked again. Otherwise an operator's first QA_NEW_OPERATOR_ORDERS approvals all are, and after
    that QA_SAMPLE_PERCENT of them, drawn at random.
    """
    if order.is_test or operator.is_senior:
        return None
    if order.returned_to_id is not None:
        return QaReason.RECHECK
    if _approvals_so_far(operator.id) < current_app.config["QA_NEW_OPERATOR_ORDERS"]:
        return QaReason.NEW_OPERATOR
    # Not a security decision: the standard generator is what a sample needs.
    if random.random() * 100 < float(current_app.config["QA_SAMPLE_PERCENT"]):
        return QaReason.RANDOM
    return None


def record_sample(order_id: int, operator_id: int, reason: QaReason) -> None:
    """The check row of an approval just moved to In QA; the caller commits."""
    db.session.add(QaCheck(order_id=order_id, operator_id=operator_id, reason=reason.value))


def _approvals_so_far(operator_id: int) -> int:
    return db.session.scalar(select(func.count(ReviewSession.id)).where(
        ReviewSession.operator_id == operator_id, ReviewSession.outcome == "approved")) or 0


# --- the seniors' QA list and claims -------------------------------------------------------


def waiting(limit: int = 100) -> list[Order]:
    """Orders in QA, soonest due first (a check holds up a delivery with a promised time)."""
    return list(db.session.scalars(
        select(Order).where(Order.status == int(Status.IN_QA)).order_by(Order.due_at, Order.id).limit(limit)))


def waiting_count() -> int:
    return db.session.scalar(select(func.count(Order.id)).where(Order.status == int(Status.IN_QA))) or 0


def open_checks(orders: list[Order]) -> dict[int, QaCheck]:
    """The open check of each order in QA, by order id, in one query (the QA list's "approved by")."""
    ids = [order.id for order in orders]
    if not ids:
        return {}
    rows = db.session.scalars(select(QaCheck).where(QaCheck.order_id.in_(ids), QaCheck.outcome.is_(None))
                              .order_by(QaCheck.id))
    return {check.order_id: check for check in rows}  # the latest wins, as in _open_check


def claim_next(senior: Operator) -> Order | None:
    """The next QA order nobody holds, for this senior; never one of their own approvals."""
    _require_senior(senior)
    for order in waiting(limit=20):
        if _open_check(order.id).operator_id != senior.id and _take(senior, order.id):
            return db.session.get(Order, order.id)
    return None


def claim(senior: Operator, ticket: str) -> Order:
    _require_senior(senior)
    order = order_by_ticket(ticket)
    if order.status != Status.IN_QA:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"order {ticket} is {order.status_enum.wire_name}, not in QA")
    if _open_check(order.id).operator_id == senior.id:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, "a QA check is someone else's: this is your own approval")
    if not _take(senior, order.id):
        holder = order.claimed_by.name if order.claimed_by else "another senior"
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"order {ticket} is being checked by {holder}")
    return db.session.get(Order, order.id)


def _take(senior: Operator, order_id: int) -> bool:
    """Hold a QA order for a lease; conditional, so two seniors never hold the same one.

    No status changes (the order stays In QA), so this is a plain conditional update, not a lifecycle move.
    """
    now = utcnow()
    result = db.session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == int(Status.IN_QA),
               or_(Order.claimed_by_id.is_(None), Order.claimed_by_id == senior.id, Order.lease_expires_at < now))
        .values(claimed_by_id=senior.id, lease_expires_at=leases.expiry())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def held(senior: Operator, ticket: str) -> tuple[Order, QaCheck]:
    """The QA order and its open check, if this senior holds a live lease on it."""
    order = order_by_ticket(ticket)
    if (order.status != Status.IN_QA or order.claimed_by_id != senior.id
            or order.lease_expires_at is None or order.lease_expires_at < utcnow()):
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"order {ticket} is not held by you for QA; claim it first")
    return order, _open_check(order.id)


def renew(senior: Operator, ticket: str) -> datetime:
    """A fresh lease on a QA order this senior holds: the check page renews it while open."""
    order, _check = held(senior, ticket)
    return leases.renew(order)


def release(senior: Operator, ticket: str) -> None:
    """Give a QA order back undecided: it stays In QA, for any senior (this one included) to claim."""
    order, _check = held(senior, ticket)
    order.claimed_by_id, order.lease_expires_at = None, None
    db.session.commit()


# --- decisions -----------------------------------------------------------------------------


def pass_check(senior: Operator, ticket: str) -> Order:
    """The approval stands: the order goes on to rendering."""
    order, check = held(senior, ticket)
    moved = lifecycle.move(order.id, Status.RENDERING, actor=_actor(senior), expect=[Status.IN_QA],
                           note=f"passed QA ({check.operator.name}'s approval)", claimed_by_id=None,
                           lease_expires_at=None)
    if not moved:
        db.session.rollback()
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"order {ticket} left QA meanwhile")
    _decide(check, senior, QaOutcome.PASSED)
    db.session.commit()
    enqueue_soon(enqueue_render, order.id)
    return db.session.get(Order, order.id)


def send_back(senior: Operator, ticket: str, note: str, x: int | None, y: int | None) -> Order:
    """Back to 50 In review, held by the operator who approved it, with the note pinned to (x, y)."""
    order, check = held(senior, ticket)
    note = (note or "").strip()[:MAX_NOTE]
    if not note:
        raise ServiceError(ErrorCode.MISSING_PARAMETER, "sending back needs a note saying what to fix")
    width, height = previews.upright_size(order.mask_path)
    if x is None or y is None or not (0 <= x < width and 0 <= y < height):
        raise ServiceError(ErrorCode.MISSING_PARAMETER, f"pin the note to a point of the image "
                                                        f"(0-{width - 1}, 0-{height - 1}): click it")
    operator_id = check.operator_id
    moved = lifecycle.move(order.id, Status.IN_REVIEW, actor=_actor(senior), expect=[Status.IN_QA],
                           note=f"sent back by QA to {check.operator.name} at ({x}, {y}): {note}",
                           claimed_by_id=operator_id, lease_expires_at=leases.expiry(),
                           returned_to_id=operator_id)
    if not moved:
        db.session.rollback()
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"order {ticket} left QA meanwhile")
    _decide(check, senior, QaOutcome.RETURNED, note=note, x=x, y=y)
    db.session.add(ReviewSession(order_id=order.id, operator_id=operator_id))
    db.session.commit()
    return db.session.get(Order, order.id)


def latest_return(order: Order) -> QaCheck | None:
    """The note QA sent an order back with, while it is with its operator again."""
    if order.returned_to_id is None:
        return None
    return db.session.scalar(select(QaCheck).where(QaCheck.order_id == order.id,
                                                   QaCheck.outcome == QaOutcome.RETURNED.value)
                             .order_by(QaCheck.id.desc()).limit(1))


def _decide(check: QaCheck, senior: Operator, outcome: QaOutcome, *, note: str | None = None,
            x: int | None = None, y: int | None = None) -> None:
    check.senior_id, check.decided_at, check.outcome = senior.id, utcnow(), outcome.value
    check.note, check.point_x, check.point_y = note, x, y


def _open_check(order_id: int) -> QaCheck:
    check = db.session.scalar(select(QaCheck).where(QaCheck.order_id == order_id, QaCheck.outcome.is_(None))
                              .order_by(QaCheck.id.desc()).limit(1))
    if check is None:  # every move to In QA writes one (orders.review._approve)
        raise RuntimeError(f"order {order_id} is in QA without an open check")
    return check


def _require_senior(operator: Operator) -> None:
    if not operator.is_senior:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, "QA checks are for senior operators")


def _actor(operator: Operator) -> str:
    return f"operator:{operator.name}"
