"""Finding an order by what the outside world knows it by."""
from __future__ import annotations

from sqlalchemy import select

from infrastructure.extensions import db
from orders.codes import ErrorCode
from orders.errors import ServiceError
from orders.models import Order


def order_by_ticket(ticket: str) -> Order:
    """The order with this ticket (case and surrounding spaces ignored); unknownTicket when none has it."""
    order = db.session.scalar(select(Order).where(Order.ticket == _clean(ticket)))
    if order is None:
        raise unknown_ticket(ticket)
    return order


def customer_order(customer_id: int, ticket: str, *, for_update: bool = False) -> Order:
    """The customer's own order with this ticket; another customer's answers exactly like none at all."""
    query = select(Order).where(Order.ticket == _clean(ticket), Order.customer_id == customer_id)
    order = db.session.scalar(query.with_for_update() if for_update else query)
    if order is None:
        raise unknown_ticket(ticket)
    return order


def ticket_of(order_id: int) -> str | None:
    """The ticket of an order, by its id; None when there is no such order."""
    return db.session.scalar(select(Order.ticket).where(Order.id == order_id))


def unknown_ticket(ticket: str) -> ServiceError:
    return ServiceError(ErrorCode.UNKNOWN_TICKET, f"no order has ticket {ticket}")


def _clean(ticket: str) -> str:
    return (ticket or "").strip().lower()
