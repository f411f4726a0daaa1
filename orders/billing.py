"""What a customer owes and a developer partner earns: GET Account, GET Statement, the admin statements.

An order is billed once, at its first delivery (orders.models.Order.billed_at), at the price fixed
when it was placed. Cancelled, failed and rejected orders are never billed; test orders never are
either, and are left out of every figure here.
"""
from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from infrastructure.extensions import db
from orders.codes import ErrorCode, Status
from orders.errors import ServiceError
from orders.intake import authenticate
from orders.models import Customer, Order, utcnow


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def containing(cls, moment: datetime) -> Month:
        return cls(moment.year, moment.month)

    @classmethod
    def parse(cls, value: str) -> Month:
        """YYYY-MM; invalidParameter for anything else (2026-13, 26-1, 2026-1)."""
        found = _MONTH.fullmatch((value or "").strip())
        if found is None or not 1 <= int(found["month"]) <= 12:
            raise ServiceError(ErrorCode.INVALID_PARAMETER, f"the month must be YYYY-MM, such as 2026-12, "
                                                            f"not {(value or '')[:20]!r}")
        return cls(int(found["year"]), int(found["month"]))

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1)

    @property
    def end(self) -> datetime:
        return datetime(self.year + self.month // 12, self.month % 12 + 1, 1)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def recent_months(count: int = 12) -> list[Month]:
    """This month and the ones before it, newest first (the admin's statement menu)."""
    months = [Month.containing(utcnow())]
    while len(months) < count:
        months.append(months[-1].previous())
    return months


_MONTH = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})")


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency_id: int


@dataclass(frozen=True)
class AccountSummary:
    email: str
    month: Month
    orders_by_status: dict[Status, int]  # placed this month, statuses with none left out
    amounts_due: list[Money]  # per currency
    commissions: list[Money] | None  # developer partners only


@dataclass(frozen=True)
class StatementLine:
    ticket: str
    customer_image_id: str
    delivered_at: datetime
    template_id: int
    amount: Decimal
    currency_id: int


@dataclass(frozen=True)
class Statement:
    email: str
    month: Month
    lines: list[StatementLine]
    totals: list[Money]
    commission_lines: list[StatementLine] | None  # developer partners only: orders that carried their key
    commission_totals: list[Money] | None


def account(email: str, api_key: str) -> AccountSummary:
    customer = authenticate(email, api_key)
    month = Month.containing(utcnow())
    placed = db.session.execute(
        select(Order.status, func.count(Order.id))
        .where(Order.customer_id == customer.id, Order.is_test.is_(False),
               Order.created_at >= month.start, Order.created_at < month.end)
        .group_by(Order.status)).all()
    due = _sums(Order.price_amount, Order.customer_id == customer.id, month)
    commissions = _sums(Order.commission_amount, Order.developer_id == customer.id, month) \
        if customer.is_developer else None
    db.session.rollback()
    return AccountSummary(customer.email, month, {Status(s): n for s, n in sorted(placed)}, due, commissions)


def statement(email: str, api_key: str, month: str) -> Statement:
    """The caller's own statement of `month` (YYYY-MM)."""
    customer = authenticate(email, api_key)
    return statement_of(customer.id, Month.parse(month))


def statement_of(customer_id: int, month: Month) -> Statement:
    """Any customer's statement (the admin dashboard's, and the API's for the caller)."""
    customer = db.session.get(Customer, customer_id)
    lines = _lines(Order.price_amount, Order.customer_id == customer_id, month)
    # A partner sees the orders that carried its key, but not the shop's own references for them.
    commission_lines = _lines(Order.commission_amount, Order.developer_id == customer_id, month, references=False) \
        if customer.is_developer else None
    db.session.rollback()
    return Statement(customer.email, month, lines, _totals(lines),
                     commission_lines, None if commission_lines is None else _totals(commission_lines))


def _billed(whose, month: Month) -> list:
    return [whose, Order.is_test.is_(False), Order.billed_at >= month.start, Order.billed_at < month.end]


def _sums(amount, whose, month: Month) -> list[Money]:
    rows = db.session.execute(
        select(Order.currency_id, func.sum(amount)).where(*_billed(whose, month)).group_by(Order.currency_id)
        .order_by(Order.currency_id)).all()
    return [Money(Decimal(total).quantize(Decimal("0.01")), currency) for currency, total in rows]


def _lines(amount, whose, month: Month, *, references: bool = True) -> list[StatementLine]:
    rows = db.session.execute(
        select(Order.ticket, Order.customer_image_id, Order.billed_at, Order.template_id, amount.label("amount"),
               Order.currency_id)
        .where(*_billed(whose, month)).order_by(Order.billed_at, Order.id)).all()
    return [StatementLine(r.ticket, (r.customer_image_id or "") if references else "", r.billed_at,
                          r.template_id, r.amount or Decimal(0), r.currency_id) for r in rows]


def _totals(lines: Iterable[StatementLine]) -> list[Money]:
    sums: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for line in lines:
        sums[line.currency_id] += line.amount
    return [Money(total, currency) for currency, total in sorted(sums.items())]


STATEMENT_COLUMNS = ("KIND", "IMAGETICKET", "CUSTOMERIMAGEID", "DELIVERED", "TEMPLATEID", "AMOUNT", "CURRENCYID")


def statement_csv(found: Statement) -> str:
    """The statement's lines as CSV with a header row: the orders billed, then (partners) the commissions."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(STATEMENT_COLUMNS)
    for kind, lines in (("order", found.lines), ("commission", found.commission_lines or [])):
        for line in lines:
            writer.writerow([kind, line.ticket, _cell(line.customer_image_id),
                             line.delivered_at.strftime("%Y-%m-%dT%H:%M:%SZ"), line.template_id,
                             f"{line.amount:.2f}", line.currency_id])
    return out.getvalue()


def _cell(text: str) -> str:
    """Text a spreadsheet shows as text: a customer's reference starting = + - @ would run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
