"""Reading the dashboard's query strings and form fields into the values the services take."""
from __future__ import annotations

from collections.abc import Mapping

from orders.checks import ascii_digits
from orders.codes import ErrorCode
from orders.errors import ServiceError
from orders.review import QueueFilter

# The due-window menu: label -> hours (0 = already overdue).
DUE_WINDOWS = {"": "any time", "0": "overdue", "1": "within 1 h", "4": "within 4 h", "24": "within 24 h"}


def queue_filter(values: Mapping[str, object]) -> QueueFilter:
    due = str(values.get("due") or "")
    return QueueFilter(
        customer_id=_positive_int(values.get("customer")),
        template_id=_positive_int(values.get("template")),
        due_within_hours=float(due) if due in DUE_WINDOWS and due else None,
        hard={"1": True, "0": False}.get(str(values.get("hard") or "")),
    )


def filter_args(filters: QueueFilter) -> dict[str, str]:
    """The query-string form of a filter, for links and the count endpoint."""
    args = {"customer": filters.customer_id, "template": filters.template_id,
            "due": None if filters.due_within_hours is None else f"{filters.due_within_hours:g}",
            "hard": None if filters.hard is None else str(int(filters.hard))}
    return {name: str(value) for name, value in args.items() if value is not None}


def option_lines(text: str) -> dict[str, str]:
    """Template options written one KEY=VALUE a line; blank lines and # comments are skipped."""
    # Here, not at the top: importing `rendering` loads the tracer and renderer, which every
    # process that creates the app (workers, `flask segment`) would pay for at start.
    from rendering.options import key_value_lines

    try:
        return key_value_lines((text or "").splitlines())
    except ValueError as exc:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"options {exc}") from None


def whole_number(name: str, value: str | None) -> int:
    text = (value or "").strip()
    if not ascii_digits(text.removeprefix("-")):
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"{name} must be a whole number")
    return int(text)


def fraction(value: str | None, default: float) -> float:
    try:
        number = float(value) if value else default
    except ValueError:
        return default
    return min(1.0, max(0.0, number))


def pixel(value: str | None) -> int | None:
    """A pixel coordinate from a form field: a whole number from 0, or None (missing, negative, not a number)."""
    text = (value or "").strip()
    return int(text) if ascii_digits(text) and len(text) <= 9 else None


def page_number(value: str | None) -> int:
    """?page=N, from 1; anything else is the first page."""
    return _positive_int(value) or 1


def _positive_int(value: object) -> int | None:
    text = str(value or "")
    return int(text) if ascii_digits(text) and int(text) > 0 else None
