"""Operator accounts: creation, passwords, and login with throttling."""
from __future__ import annotations

import hmac
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from infrastructure.extensions import db
from orders.checks import ascii_digits
from orders.codes import ErrorCode, Role
from orders.errors import ServiceError
from orders.models import Operator, utcnow

MIN_PASSWORD = 10
MAX_FAILURES = 5  # consecutive wrong passwords before the account is locked for a while
LOCK_TIME = timedelta(minutes=15)
# Checked against when the name is unknown, so timing does not tell which names exist.
_DUMMY_HASH = generate_password_hash("not a real password")


def create_operator(name: str, password: str, *, admin: bool = False) -> Operator:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, "the operator name must be 1-80 characters")
    if db.session.scalar(select(Operator.id).where(Operator.name == name)):
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"an operator named {name} already exists")
    operator = Operator(name=name, password_hash=_hash(password), role=(Role.ADMIN if admin else Role.OPERATOR).value)
    db.session.add(operator)
    db.session.commit()
    return operator


def set_password(name: str, password: str) -> Operator:
    """A new password; every session signed in with the old one ends (see operator_for_session)."""
    operator = operator_by_name(name)
    operator.password_hash = _hash(password)
    operator.failed_logins, operator.locked_until = 0, None
    db.session.commit()
    return operator


def set_active(name: str, active: bool) -> Operator:
    operator = operator_by_name(name)
    operator.active = active
    db.session.commit()
    return operator


def login(name: str, password: str) -> Operator:
    """The operator, if name and password match an active, unlocked account."""
    operator = db.session.scalar(select(Operator).where(Operator.name == (name or "").strip()))
    if operator is not None and operator.locked_until and operator.locked_until > utcnow():
        raise ServiceError(ErrorCode.RATE_LIMITED, "too many failed logins; try again in a few minutes")
    matches = check_password_hash(operator.password_hash if operator else _DUMMY_HASH, password or "")
    if operator is None or not matches or not operator.active:
        if operator is not None and not matches:
            _count_failure(operator)
        raise ServiceError(ErrorCode.INVALID_CREDENTIALS, "wrong name or password")
    operator.failed_logins, operator.locked_until = 0, None
    db.session.commit()
    return operator


def operator_for_session(session_id: str) -> Operator | None:
    """The operator a dashboard session belongs to (see Operator.get_id).

    None once the account is disabled or its password changed, which ends every
    session of that account at its next request.
    """
    operator_id, _, stamp = session_id.partition(":")
    if not ascii_digits(operator_id):
        return None
    operator = db.session.get(Operator, int(operator_id))
    if operator is None or not operator.active or not hmac.compare_digest(stamp, operator.password_stamp):
        return None
    return operator


def list_operators() -> list[Operator]:
    return list(db.session.scalars(select(Operator).order_by(Operator.name)))


def operator_by_name(name: str) -> Operator:
    operator = db.session.scalar(select(Operator).where(Operator.name == (name or "").strip()))
    if operator is None:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"no operator is named {name}")
    return operator


def _count_failure(operator: Operator) -> None:
    operator.failed_logins += 1
    if operator.failed_logins >= MAX_FAILURES:
        operator.locked_until = utcnow() + LOCK_TIME
        operator.failed_logins = 0
    db.session.commit()


def _hash(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"the password must have at least {MIN_PASSWORD} characters")
    return generate_password_hash(password)  # scrypt, Werkzeug's default scheme
