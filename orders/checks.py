"""Checks of plain values shared by the services; each raises ServiceError naming the parameter."""
from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from sqlalchemy.exc import IntegrityError

from infrastructure.extensions import db
from orders.codes import ErrorCode
from orders.errors import ServiceError


def finite_number(value: object) -> bool:
    """A JSON number that int() can take: JSON's Infinity and NaN, and true/false, are not."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def ascii_digits(value: str) -> bool:
    """Only "0" to "9": str.isdigit also takes "²" (which int() refuses) and "٣" (which it reads)."""
    return value.isascii() and value.isdigit()


def required(name: str, value: str | None) -> str:
    """The value without surrounding spaces; missingParameter when that leaves nothing."""
    value = (value or "").strip()
    if not value:
        raise ServiceError(ErrorCode.MISSING_PARAMETER, f"{name} is required")
    return value


def decimal_of(name: str, value: Decimal | str | None, default: Decimal | None = None) -> Decimal:
    """A finite decimal number; `default` when absent, else missingParameter."""
    if value is None or value == "":
        if default is None:
            raise ServiceError(ErrorCode.MISSING_PARAMETER, f"{name} is required")
        return default
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"{name} must be a number, not {value!r}") from None
    if not number.is_finite():
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"{name} must be a finite number")
    return number


def commit_unique(message: str) -> None:
    """Commit; a unique constraint refusing the row becomes invalidParameter with `message`."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(ErrorCode.INVALID_PARAMETER, message) from None


def optional_text(name: str, value: str | None, limit: int, *, multiline: bool = False) -> str | None:
    """Free text without surrounding spaces, None when empty; invalidParameter past `limit` characters.

    Control characters are refused (line breaks too, unless `multiline`): the text is shown to
    operators and written into CSV statements, where they would do harm.
    """
    value = (value or "").strip()
    if len(value) > limit:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"{name} is longer than {limit} characters")
    allowed = "\n\r\t" if multiline else ""
    if any((ord(ch) < 32 and ch not in allowed) or ord(ch) == 127 for ch in value):
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"{name} must not contain control characters")
    return value or None


def flag(name: str, value: str | None) -> bool:
    """1/true/yes or 0/false/no (any case); absent is false."""
    value = (value or "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ServiceError(ErrorCode.INVALID_PARAMETER, f"{name} must be 1/true or 0/false, not {value!r}")


def whole_number(name: str, value: str | None, low: int, high: int, default: int) -> int:
    """A whole number from `low` to `high`; `default` when absent."""
    value = (value or "").strip()
    if not value:
        return default
    if not ascii_digits(value) or len(value) > 12 or not low <= int(value) <= high:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"{name} must be a whole number from {low} to {high}")
    return int(value)
