"""Figures for the supervisors' stats page: where orders are, how fast they move, who does what.

Every figure covers a window ending now (`since` is its start) except the
status counts and the open SLA misses, which are the state at this moment.
Times are naive UTC like every stored timestamp. Test orders (orders.testmode) count nowhere here.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, select

from infrastructure.extensions import db
from orders.codes import FINAL_STATUSES, QaOutcome, Status
from orders.models import MaskVersion, Operator, Order, OrderEvent, QaCheck, ReviewSession, utcnow

DECIDED = (Status.RENDERING, Status.REJECTED)
REAL = Order.is_test.is_(False)


@dataclass(frozen=True)
class HourCount:
    hour: datetime  # start of the hour
    approved: int
    rejected: int


@dataclass(frozen=True)
class OperatorFigures:
    name: str
    approvals: int
    edits: int  # mask saves and region re-runs
    rejects: int
    median_seconds: float | None  # claim to decision; bulk approvals are not timed
    qa_passed: int = 0  # sampled approvals a senior passed
    qa_returns: int = 0  # sampled approvals a senior sent back

    @property
    def first_pass_yield(self) -> float | None:
        """Passed QA / sampled, over the checks decided: one still waiting is neither pass nor return yet."""
        checked = self.qa_passed + self.qa_returns
        return self.qa_passed / checked if checked else None


@dataclass(frozen=True)
class EditShare:
    approved: int
    unedited: int  # approved with the machine draft as it was

    @property
    def share(self) -> float | None:
        return self.unedited / self.approved if self.approved else None


@dataclass(frozen=True)
class SlaMisses:
    delivered_late: int  # delivered in the window after their due time
    open_overdue: int  # not finished and already past due now


def window_start(hours: int) -> datetime:
    return utcnow() - timedelta(hours=hours)


def orders_by_status() -> dict[Status, int]:
    rows = db.session.execute(select(Order.status, func.count(Order.id)).where(REAL).group_by(Order.status))
    counts = {Status(status): count for status, count in rows}
    return {status: counts.get(status, 0) for status in Status}


def throughput_per_hour(since: datetime) -> list[HourCount]:
    """Review decisions (approved, rejected) per hour since `since`, empty hours included."""
    rows = db.session.execute(
        select(OrderEvent.at, OrderEvent.to_status).join(Order, Order.id == OrderEvent.order_id).where(
            REAL,
            OrderEvent.at >= since,
            OrderEvent.to_status.in_([int(s) for s in DECIDED]),
            OrderEvent.from_status.in_([int(Status.AWAITING_REVIEW), int(Status.IN_REVIEW)]),
        )
    )
    # Bucketed here, not in SQL: hour truncation is spelt differently on SQLite and PostgreSQL.
    counts: Counter[tuple[datetime, int]] = Counter((_hour(at), to) for at, to in rows)
    hours = _hours_between(_hour(since), _hour(utcnow()))
    return [HourCount(h, counts[(h, int(Status.RENDERING))], counts[(h, int(Status.REJECTED))]) for h in hours]


def operator_figures(since: datetime) -> list[OperatorFigures]:
    sessions = db.session.execute(
        select(Operator.name, ReviewSession.outcome, ReviewSession.edits, ReviewSession.started_at,
               ReviewSession.ended_at)
        .join(Operator, Operator.id == ReviewSession.operator_id)
        .where(ReviewSession.ended_at >= since)
    ).all()
    by_name: dict[str, list] = {}
    for row in sessions:
        by_name.setdefault(row.name, []).append(row)
    checks = Counter(db.session.execute(
        select(Operator.name, QaCheck.outcome).join(Operator, Operator.id == QaCheck.operator_id)
        .where(QaCheck.decided_at >= since)
    ).tuples())
    for name, _outcome in checks:
        by_name.setdefault(name, [])
    return [replace(_figures(name, rows), qa_passed=checks[(name, QaOutcome.PASSED.value)],
                    qa_returns=checks[(name, QaOutcome.RETURNED.value)])
            for name, rows in sorted(by_name.items())]


def _figures(name: str, rows: list) -> OperatorFigures:
    decided = [r for r in rows if r.outcome in ("approved", "rejected")]
    # A bulk approval opens and closes its session in the same instant: no time was measured.
    timed = [(r.ended_at - r.started_at).total_seconds() for r in decided if r.ended_at > r.started_at]
    return OperatorFigures(
        name=name,
        approvals=sum(r.outcome == "approved" for r in rows),
        edits=sum(r.edits for r in rows),
        rejects=sum(r.outcome == "rejected" for r in rows),
        median_seconds=statistics.median(timed) if timed else None,
    )


def approved_without_edit(since: datetime) -> EditShare:
    """Of the orders approved in the window, how many went out with the machine draft untouched."""
    edited = exists().where(MaskVersion.order_id == OrderEvent.order_id, MaskVersion.number > 0)
    row = db.session.execute(
        select(func.count(func.distinct(OrderEvent.order_id)),
               func.count(func.distinct(case((~edited, OrderEvent.order_id)))))
        .join(Order, Order.id == OrderEvent.order_id)
        .where(REAL, OrderEvent.at >= since, OrderEvent.to_status == int(Status.RENDERING))
    ).one()
    return EditShare(approved=row[0], unedited=row[1])


def sla_misses(since: datetime) -> SlaMisses:
    late = db.session.scalar(
        select(func.count(func.distinct(Order.id)))
        .join(OrderEvent, and_(OrderEvent.order_id == Order.id, OrderEvent.to_status == int(Status.DELIVERED)))
        .where(REAL, OrderEvent.at >= since, OrderEvent.at > Order.due_at)
    )
    overdue = db.session.scalar(
        select(func.count(Order.id)).where(REAL, Order.status.not_in([int(s) for s in FINAL_STATUSES]),
                                           Order.due_at < utcnow())
    )
    return SlaMisses(delivered_late=late or 0, open_overdue=overdue or 0)


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _hours_between(first: datetime, last: datetime) -> list[datetime]:
    hours, at = [], first
    while at <= last:
        hours.append(at)
        at += timedelta(hours=1)
    return hours
