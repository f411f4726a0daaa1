"""GET Images: a customer's own orders, filtered and paged, newest first."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Row, Select, bindparam, func, select

from infrastructure import counts
from infrastructure.database import statements_alone
from infrastructure.extensions import db
from orders.checks import ascii_digits, optional_text, whole_number
from orders.codes import ErrorCode, Status
from orders.errors import ServiceError
from orders.finals import final_image_url, public_base_url
from orders.intake import MAX_REFERENCE, authenticate
from orders.models import Order
from orders.paging import Page

DEFAULT_PER_PAGE, MAX_PER_PAGE = 100, 500
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class ImagesQuery:
    """GET Images' filters, as strings exactly as the caller sent them."""

    status_ids: str = ""
    created_from: str = ""
    created_to: str = ""
    customer_image_id: str = ""
    page: str = ""
    per_page: str = ""


class ImageSummary(NamedTuple):
    # A tuple, not a frozen dataclass: a page makes up to 500, and a frozen dataclass's
    # __init__ took four times as long.
    ticket: str
    customer_image_id: str
    status: Status
    created_at: datetime
    due_at: datetime
    final_image_url: str


# The table's columns, not the entity's: a Core select skips the ORM's statement compilation and row
# processing, a quarter of the page query's CPU.
_ORDERS = Order.__table__.c
_COLUMNS = (_ORDERS.ticket, _ORDERS.customer_image_id, _ORDERS.status, _ORDERS.created_at, _ORDERS.due_at,
            _ORDERS.final_token, _ORDERS.final_path)


def list_images(email: str, api_key: str, query: ImagesQuery) -> Page[ImageSummary]:
    # Sign-in, count and page are reads; TOTAL may come from the count cache anyway, so a snapshot
    # shared by the three would promise nothing.
    statements_alone(db.session)
    customer = authenticate(email, api_key)
    statuses = _statuses(query.status_ids)
    start, end = _time("From", query.created_from, end=False), _time("To", query.created_to, end=True)
    if start and end and start >= end:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, "From must not be after To")
    reference = optional_text("CustomerImageId", query.customer_image_id, MAX_REFERENCE)
    number = whole_number("Page", query.page, 1, MAX_PAGE, 1)
    per_page = whole_number("PerPage", query.per_page, 1, MAX_PER_PAGE, DEFAULT_PER_PAGE)

    filters = (statuses, start, end, reference)
    found, counted = _statements(bool(statuses), start is not None, end is not None, reference is not None)
    params = {"customer_id": customer.id, "statuses": statuses, "start": start, "end": end, "reference": reference}
    total = counts.remembered(f"images:{customer.id}", filters,
                              lambda: db.session.execute(counted, params).scalar_one())
    rows = db.session.execute(found, {**params, "limit": per_page, "offset": (number - 1) * per_page})
    base_url = public_base_url()
    items = [_summary(row, base_url) for row in rows]
    db.session.rollback()  # hand the connection back
    return Page(items, number, per_page, total)


@lru_cache(maxsize=16)
def _statements(statuses: bool, start: bool, end: bool, reference: bool) -> tuple[Select, Select]:
    """The page and count statements for this combination of filters, values as bound parameters.

    Built once per combination: building a statement and its cache key cost a GET Images more
    than running it.
    """
    # Served by ix_orders_customer_created: the customer's rows in creation order, read backwards.
    found = select(*_COLUMNS).where(_ORDERS.customer_id == bindparam("customer_id"))
    if statuses:
        found = found.where(_ORDERS.status.in_(bindparam("statuses", expanding=True)))
    if start:
        found = found.where(_ORDERS.created_at >= bindparam("start"))
    if end:
        found = found.where(_ORDERS.created_at < bindparam("end"))
    if reference:
        found = found.where(_ORDERS.customer_image_id == bindparam("reference"))
    counted = select(func.count()).select_from(found.subquery())
    page = found.order_by(_ORDERS.created_at.desc(), _ORDERS.id.desc()) \
        .limit(bindparam("limit")).offset(bindparam("offset"))
    return page, counted


_STATUSES = {int(status): status for status in Status}


def _summary(row: Row, base_url: str) -> ImageSummary:
    ticket, reference, status, created_at, due_at, _, _ = row
    return ImageSummary(ticket, reference or "", _STATUSES[status], created_at, due_at, final_image_url(row, base_url))


def _statuses(value: str) -> list[int]:
    """StatusId: one status id or a comma list of them."""
    wanted = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        if not ascii_digits(part) or int(part) not in Status._value2member_map_:
            known = ", ".join(str(int(s)) for s in Status)
            raise ServiceError(ErrorCode.INVALID_PARAMETER, f"StatusId must be status ids from {known}, not {part!r}")
        wanted.append(int(part))
    return wanted


def _time(name: str, value: str, *, end: bool) -> datetime | None:
    """An ISO 8601 date or time as naive UTC (the database's form).

    A bare date means its whole day: From the day's start, To the next day's start (exclusive),
    so From=To=2026-12-03 lists that day. A time without a zone is read as UTC.
    """
    value = (value or "").strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime.combine(day, time())
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ServiceError(ErrorCode.INVALID_PARAMETER,
                           f"{name} must be an ISO 8601 date or time such as 2026-12-03 or "
                           f"2026-12-03T16:40:00Z, not {value[:40]!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    # A time is an exact bound; To includes it.
    return moment + timedelta(microseconds=1) if end else moment
