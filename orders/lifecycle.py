"""The one place an order changes status, and the history row it leaves."""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, bindparam, insert, null, select, update

from infrastructure.database import writes_with_returning_ctes
from infrastructure.extensions import db
from orders.codes import TRANSITIONS, FailureReason, Status
from orders.models import Order, OrderEvent, utcnow

_ORDERS, _EVENTS = Order.__table__, OrderEvent.__table__
_INSERT_ORDER = insert(_ORDERS).returning(_ORDERS.c.id)
_INSERT_EVENT = insert(_EVENTS)
_EVENT_COLUMNS = ("order_id", "at", "from_status", "to_status", "actor", "note")


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


def create(values: dict[str, Any], *, actor: str) -> int:
    """Insert a new order (`values`: its columns but the status) in 10 Received, with its first
    history row; returns the order's id. The caller commits.

    On PostgreSQL both rows are written by one statement (a data-modifying WITH): atomic by itself,
    so a caller whose statements commit alone (infrastructure.database.statements_alone) pays one
    round trip for the whole write, not four (BEGIN, two INSERTs, COMMIT). POST Image is the
    busiest write of all. SQLite has no such statement and no round trips to spare: two INSERTs.
    """
    values = {**values, "status": int(Status.RECEIVED)}
    if writes_with_returning_ctes(db.session):
        return db.session.execute(_insert_with_event(tuple(sorted(values))), {**values, "actor": actor}).scalar_one()
    order_id = db.session.execute(_INSERT_ORDER, values).scalar_one()
    db.session.execute(_INSERT_EVENT, dict(order_id=order_id, at=values["created_at"], from_status=None,
                                           to_status=values["status"], actor=actor, note=None))
    return order_id


@lru_cache(maxsize=8)
def _insert_with_event(columns: tuple[str, ...]) -> Insert:
    """INSERT the order, and from what it returns the history row: built once per set of columns."""
    new_order = insert(_ORDERS).returning(_ORDERS.c.id, _ORDERS.c.created_at, _ORDERS.c.status) \
        .values({name: bindparam(name) for name in columns}).cte("new_order")
    first_event = select(new_order.c.id, new_order.c.created_at, null(), new_order.c.status, bindparam("actor"),
                         null())
    return insert(_EVENTS).from_select(_EVENT_COLUMNS, first_event).add_cte(new_order) \
        .returning(_EVENTS.c.order_id)


def _current_status(order_id: int) -> int | None:
    return db.session.scalar(db.select(Order.status).where(Order.id == order_id))


def _refresh_if_loaded(order_id: int) -> None:
    """Expire a loaded copy so the caller sees the row it just updated."""
    order = db.session.identity_map.get(db.inspect(Order).identity_key_from_primary_key((order_id,)))
    if order is not None:
        db.session.expire(order)
