"""Customers: accounts, API keys, default templates, the demo account (CLI and admin)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from infrastructure import credentials
from infrastructure.extensions import db
from orders import operators
from orders.checks import commit_unique, decimal_of, required
from orders.codes import ErrorCode
from orders.errors import ServiceError
from orders.models import Customer, Order, utcnow
from orders.paging import Page, page_of
from orders.templates import active_template, create_template


def create_customer(email: str, *, developer: bool = False,
                    commission_pct: Decimal | str | None = None) -> tuple[Customer, str]:
    """Create a customer; returns it with its API key, which is never shown again."""
    email = required("email", email).lower()
    if "@" not in email:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"{email!r} is not an e-mail address")
    pct = decimal_of("commission", commission_pct, default=Decimal("10"))
    if not Decimal(0) <= pct <= Decimal(100):
        raise ServiceError(ErrorCode.INVALID_PARAMETER, "commission must be between 0 and 100 percent")
    api_key = credentials.new_api_key()
    customer = Customer(
        email=email,
        api_key_hash=credentials.hash_key(api_key),
        is_developer=developer,
        commission_pct=pct,
        webhook_secret=credentials.new_webhook_secret(),
    )
    db.session.add(customer)
    commit_unique(f"a customer with e-mail {email} already exists")
    return customer, api_key


def rotate_key(email: str) -> str:
    customer = _customer_by_email(email)
    api_key = credentials.new_api_key()
    customer.api_key_hash = credentials.hash_key(api_key)
    db.session.commit()
    return api_key


def rotate_webhook_secret(email: str) -> str:
    """A new callback signing secret; the old one keeps signing too for orders.callbacks.ROTATION_OVERLAP."""
    customer = _customer_by_email(email)
    customer.previous_webhook_secret = customer.webhook_secret
    customer.webhook_secret = credentials.new_webhook_secret()
    customer.webhook_secret_rotated_at = utcnow()
    db.session.commit()
    return customer.webhook_secret


def webhook_secret(email: str) -> str:
    return _customer_by_email(email).webhook_secret


def set_customer_active(email: str, active: bool) -> Customer:
    customer = _customer_by_email(email)
    customer.active = active
    db.session.commit()
    return customer


PER_PAGE = 100


def list_customers(page: int = 1) -> Page[tuple[Customer, int]]:
    """A page of customers, by e-mail, each with how many orders it has placed (for the admin pages)."""
    counts = (
        db.select(Order.customer_id, db.func.count(Order.id).label("orders"))
        .group_by(Order.customer_id)
        .subquery()
    )
    query = (db.select(Customer, db.func.coalesce(counts.c.orders, 0))
             .outerjoin(counts, counts.c.customer_id == Customer.id).order_by(Customer.email))
    return page_of(query, page, PER_PAGE, rows=True)


def customer_by_id(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"no customer has id {customer_id}")
    return customer


def customer_orders(customer_id: int, page: int = 1) -> Page[Order]:
    """A page of a customer's orders, newest first."""
    query = db.select(Order).where(Order.customer_id == customer_id).order_by(Order.created_at.desc(),
                                                                               Order.id.desc())
    return page_of(query, page, PER_PAGE)


def set_default_template(email: str, template_id: int) -> None:
    customer = _customer_by_email(email)
    customer.default_template = active_template(template_id)
    db.session.commit()


@dataclass(frozen=True)
class DemoAccount:
    email: str
    api_key: str
    template_id: int
    admin_name: str
    admin_password: str


DEMO_EMAIL = "demo@example.com"
DEMO_ADMIN = "admin"


def seed_demo() -> DemoAccount | None:
    """A demo customer and template on an empty database; None if it has data."""
    if db.session.scalar(db.select(db.func.count()).select_from(Customer)):
        return None
    template = create_template(name="Transparent PNG", price="0.95", currency_id=1, delivery_hours=24)
    customer, api_key = create_customer(DEMO_EMAIL, developer=True)
    customer.default_template = template
    db.session.commit()
    # A dashboard account too, so a newcomer can open the review queue at once; only when no one
    # has made one (an operator created before the first customer keeps the dashboard as it is).
    password = secrets.token_urlsafe(12)
    if not operators.list_operators():
        operators.create_operator(DEMO_ADMIN, password, admin=True)
    else:
        password = ""
    return DemoAccount(DEMO_EMAIL, api_key, template.id, DEMO_ADMIN, password)


def _customer_by_email(email: str) -> Customer:
    customer = db.session.scalar(db.select(Customer).where(Customer.email == required("email", email).lower()))
    if customer is None:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"no customer has e-mail {email}")
    return customer
