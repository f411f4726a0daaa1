"""The one place an order changes status, and the history row it leaves."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update

from infrastructure.extensions import db
from orders.codes import TRANSITIONS, FailureReason, Status
from orders.models import Order, OrderEvent, utcnow

# Built once: every new order writes one (see record_creation).
_INSERT_EVENT = insert(OrderEvent.__table__)


class IllegalTransition(RuntimeError):
    pass


def move(
    order_id: int,
    to: Status,
    *,
    actor: str,
    expect: Iterable[Status],
    note: str | None = None,
    **fields: Any,
) -> bool:
    """Move an order to `to` if, and only if, it is still in one of `expect`.

    The check and the write are one conditional UPDATE, so two workers (or two
    operators) racing for the same order cannot both win: the loser gets False
    and changes nothing. Extra `fields` are written in the same statement. The
    caller commits.
    """
    expected = [Status(s) for s in expect]
    for source in expected:
        if to not in TRANSITIONS[source]:
            raise IllegalTransition(f"{source.wire_name} -> {to.wire_name} is not a lifecycle move")
    previous = _current_status(order_id)
    if previous is None or Status(previous) not in expected:
        return False
    now = utcnow()
    # Conditional on the status just read, so the history row names the real source.
    result = db.session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == previous)
        .values(status=int(to), updated_at=now, **fields)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.add(OrderEvent(order_id=order_id, at=now, from_status=previous, to_status=int(to),
                              actor=actor, note=note))
    _refresh_if_loaded(order_id)
    return True


def fail(order_id: int, reason: FailureReason, message: str, *, actor: str) -> bool:
    """End an order in 90 Failed with a named reason, from any non-final status."""
    live = [s for s in Status if Status.FAILED in TRANSITIONS[s]]
    return move(
        order_id,
        Status.FAILED,
        actor=actor,
        expect=live,
        note=f"{reason.value}: {message}",
        failure_reason=reason.value,
        failure_message=message,
    )


def record_creation(order_id: int, *, at: datetime, actor: str) -> None:
    """The first history row: the order exists, in Received."""
    db.session.execute(
        _INSERT_EVENT, dict(order_id=order_id, at=at, from_status=None, to_status=int(Status.RECEIVED),
                            note=None, actor=actor)
    )


def _current_status(order_id: int) -> int | None:
    return db.session.scalar(db.select(Order.status).where(Order.id == order_id))


def _refresh_if_loaded(order_id: int) -> None:
    """Expire a loaded copy so the caller sees the row it just updated."""
    order = db.session.identity_map.get(db.inspect(Order).identity_key_from_primary_key((order_id,)))
    if order is not None:
        db.session.expire(order)
