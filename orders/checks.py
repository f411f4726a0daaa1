"""Checks of plain values shared by the services; each raises ServiceError naming the parameter."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy.exc import IntegrityError

from infrastructure.extensions import db
from orders.codes import ErrorCode
from orders.errors import ServiceError


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
