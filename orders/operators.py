"""Operator accounts: creation, passwords, and sign-in with growing delays after failures."""
from __future__ import annotations

import hmac

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from infrastructure import throttle
from infrastructure.extensions import db
from orders.checks import ascii_digits
from orders.codes import ErrorCode, Level, Role
from orders.errors import ServiceError
from orders.models import Operator

MIN_PASSWORD = 10
# Checked against when the name is unknown, so timing does not tell which names exist. A literal
# (generate_password_hash("not a real password")): hashing it at import cost every process ~0.1 s
# at start. tests/test_dashboard_auth.py checks it keeps werkzeug's current method and cost.
_DUMMY_HASH = ("scrypt:32768:8:1$U0s896YXTrJtQ5kJ$78ce3aff50dba3ac4fdb6a87d98acc38c80f49d6ee7f1a7c3cfa88cc41a5df5b"
               "013edc1d08777673a7a79001e5614f6eb3f04ab1698ecf920dd1751d8dc33990")


def create_operator(name: str, password: str, *, admin: bool = False, senior: bool = False) -> Operator:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, "the operator name must be 1-80 characters")
    if db.session.scalar(select(Operator.id).where(Operator.name == name)):
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"an operator named {name} already exists")
    operator = Operator(name=name, password_hash=_hash(password), role=(Role.ADMIN if admin else Role.OPERATOR).value,
                        level=(Level.SENIOR if senior else Level.OPERATOR).value)
    db.session.add(operator)
    db.session.commit()
    return operator


def set_password(name: str, password: str) -> Operator:
    """A new password; every session signed in with the old one ends (see operator_for_session)."""
    operator = operator_by_name(name)
    operator.password_hash = _hash(password)
    db.session.commit()
    return operator


def end_sessions(operator: Operator) -> None:
    """Sign the operator out everywhere: every session cookie issued so far stops working."""
    db.session.execute(db.update(Operator).where(Operator.id == operator.id)
                       .values(session_generation=Operator.session_generation + 1))
    db.session.commit()


def set_level(name: str, level: str) -> Operator:
    """operator or senior (orders.codes.Level); takes effect at the operator's next claim or approval."""
    try:
        chosen = Level((level or "").strip().lower())
    except ValueError:
        known = ", ".join(choice.value for choice in Level)
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"unknown level {level!r} (known: {known})") from None
    operator = operator_by_name(name)
    operator.level = chosen.value
    db.session.commit()
    return operator


def set_active(name: str, active: bool) -> Operator:
    operator = operator_by_name(name)
    operator.active = active
    db.session.commit()
    return operator


def login(name: str, password: str, address: str | None) -> Operator:
    """The operator, if name and password match an active account and this address may try now.

    Unknown name, wrong password, disabled account and a wait after failures all
    answer the same words, after the same password hash: neither the answer nor
    its time tells which names exist or which are being held back.
    """
    name = (name or "").strip()
    held_back = throttle.waiting(name, address)
    operator = db.session.scalar(select(Operator).where(Operator.name == name))
    matches = check_password_hash(operator.password_hash if operator else _DUMMY_HASH, password or "")
    if held_back or operator is None or not matches or not operator.active:
        if not held_back:  # a try during the wait is refused unread: it must not lengthen the wait
            throttle.failed(name, address)
        raise ServiceError(ErrorCode.INVALID_CREDENTIALS, SIGN_IN_REFUSED)
    throttle.succeeded(name, address)
    return operator


SIGN_IN_REFUSED = "wrong name or password (after several wrong tries, wait a little before the next)"


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


def _hash(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"the password must have at least {MIN_PASSWORD} characters")
    return generate_password_hash(password)  # scrypt, Werkzeug's default scheme
