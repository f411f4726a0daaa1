"""What monitoring reads from the database at scrape time: orders per status, and those at risk of missing
their due time.

One query answers both (GROUP BY status over the (status, due_at) index), so a scrape costs one round trip.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from infrastructure.extensions import db
from orders.codes import Status
from orders.models import Order, utcnow

# An order due within this long that no operator has approved yet may miss its promised time.
SLA_WINDOW = timedelta(hours=1)
# Not yet rendering: every status before Rendering (a redo waiting for its operator, and an approval
# waiting for a senior's QA check, included: a person still has to act on them).
UNAPPROVED = frozenset({Status.RECEIVED, Status.SEGMENTING, Status.AWAITING_REVIEW, Status.REDO_REQUESTED,
                        Status.IN_REVIEW, Status.IN_QA})


@dataclass(frozen=True)
class OrderCounts:
    by_status: dict[str, int]  # every status by its lower-case name, 0 where none
    at_risk: int  # unapproved orders due within SLA_WINDOW or already overdue


def order_counts(now: datetime | None = None) -> OrderCounts:
    soon = (now or utcnow()) + SLA_WINDOW
    rows = db.session.execute(
        select(Order.status, func.count(), func.sum(case((Order.due_at <= soon, 1), else_=0)))
        .group_by(Order.status))
    by_status = {status.name.lower(): 0 for status in Status}
    at_risk = 0
    for status, count, due_soon in rows:
        by_status[Status(status).name.lower()] = count
        if status in UNAPPROVED:
            at_risk += int(due_soon or 0)
    return OrderCounts(by_status, at_risk)
