"""How the dashboard writes times, confidences and codes; used by the templates as filters."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint

from orders.codes import CURRENCIES, Status
from orders.models import utcnow


def iso_utc(at: datetime | None) -> str:
    """For data-* attributes the page scripts read: stored times are naive UTC."""
    return at.isoformat(timespec="seconds") + "Z" if at else ""


def time_left(due_at: datetime | None, now: datetime | None = None) -> str:
    if due_at is None:
        return ""
    seconds = int((due_at - (now or utcnow())).total_seconds())
    return ("overdue " if seconds < 0 else "") + duration(abs(seconds))


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def is_overdue(due_at: datetime | None) -> bool:
    return due_at is not None and due_at < utcnow()


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def status_name(code: int) -> str:
    return f"{code} {Status(code).wire_name}"


def when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") + " UTC" if at else ""


def currency(currency_id: int) -> str:
    return CURRENCIES.get(currency_id, str(currency_id))


FILTERS = {
    "iso_utc": iso_utc, "time_left": time_left, "duration": duration, "is_overdue": is_overdue,
    "percent": percent, "status_name": status_name, "when": when, "currency": currency,
}


def register(bp: Blueprint) -> None:
    for name, function in FILTERS.items():
        bp.add_app_template_filter(function, name)
