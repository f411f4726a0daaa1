"""How a job ends an order: the status change, its commit, and the customer's callback."""
from __future__ import annotations

from infrastructure.extensions import db
from orders import callbacks, lifecycle
from orders.codes import FailureReason


def fail_order(order_id: int, reason: FailureReason, message: str, *, actor: str) -> str:
    """End the order in 90 Failed (whatever the job had half-done is rolled back) and tell the customer."""
    db.session.rollback()
    failed = lifecycle.fail(order_id, reason, message[:1000], actor=actor)
    db.session.commit()
    if failed:
        callbacks.queue_for(order_id)
    return f"failed: {reason.value}"
