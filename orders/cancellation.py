"""Cancel: the customer withdraws an order before an operator opens it."""
from __future__ import annotations

from infrastructure.extensions import db
from orders import lifecycle
from orders.codes import CANCELLABLE, ErrorCode, Status
from orders.errors import ServiceError
from orders.intake import authenticate
from orders.lookups import customer_order


def cancel(email: str, api_key: str, ticket: str) -> Status:
    """Move the order to 97 Cancelled; notCancellable (and nothing changed) past Awaiting review.

    Nothing is charged (only deliveries are billed) and no callback is sent; the files stay for the
    retention period. A job that finds the order cancelled leaves it alone, as any job does with an
    order that moved on.
    """
    customer = authenticate(email, api_key)
    order = customer_order(customer.id, ticket)
    actor = f"customer:{customer.email}"
    moved = lifecycle.move(order.id, Status.CANCELLED, actor=actor, expect=CANCELLABLE,
                           note="cancelled by the customer")
    if not moved:
        db.session.rollback()
        current = Status(order.status)  # read again: the rollback expired it
        raise ServiceError(ErrorCode.NOT_CANCELLABLE,
                           f"the order is {current.wire_name}; only orders still Received, Segmenting or "
                           "Awaiting review can be cancelled")
    db.session.commit()
    return Status.CANCELLED
