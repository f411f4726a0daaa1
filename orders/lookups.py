"""Finding an order by what the outside world knows it by."""
from __future__ import annotations

from sqlalchemy import select

from infrastructure.extensions import db
from orders.codes import ErrorCode
from orders.errors import ServiceError
from orders.models import Order


def order_by_ticket(ticket: str) -> Order:
    """The order with this ticket (case and surrounding spaces ignored); unknownTicket when none has it."""
    order = db.session.scalar(select(Order).where(Order.ticket == (ticket or "").strip().lower()))
    if order is None:
        raise ServiceError(ErrorCode.UNKNOWN_TICKET, f"no order has ticket {ticket}")
    return order
