"""Templates: the priced sets of processing instructions customers order against (CLI and admin)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from infrastructure.extensions import db
from orders.checks import decimal_of, required
from orders.codes import CURRENCIES, ErrorCode
from orders.errors import ServiceError
from orders.models import Template

MIN_DELIVERY_HOURS, MAX_DELIVERY_HOURS = 1, 720


CENT = Decimal("0.01")


def create_template(
    *, name: str, price: Decimal | str, currency_id: int, delivery_hours: int, options: dict[str, Any] | None = None
) -> Template:
    template = Template(**_template_fields(name, price, currency_id, delivery_hours, options))
    db.session.add(template)
    db.session.commit()
    return template


def update_template(
    template_id: int, *, name: str, price: Decimal | str, currency_id: int, delivery_hours: int,
    options: dict[str, Any] | None = None,
) -> Template:
    """Change a template; orders already placed keep the price and delivery time they were placed with."""
    template = template_by_id(template_id)
    for field, value in _template_fields(name, price, currency_id, delivery_hours, options).items():
        setattr(template, field, value)
    db.session.commit()
    return template


def set_template_active(template_id: int, active: bool) -> Template:
    """An inactive template is refused to new orders; existing orders are not touched."""
    template = template_by_id(template_id)
    template.active = active
    db.session.commit()
    return template


def template_by_id(template_id: int) -> Template:
    template = db.session.get(Template, template_id)
    if template is None:
        raise ServiceError(ErrorCode.UNKNOWN_TEMPLATE, f"no template has id {template_id}")
    return template


def all_templates() -> list[Template]:
    """Every template, inactive ones included (for the admin pages)."""
    return list(db.session.scalars(db.select(Template).order_by(Template.id)))


def _template_fields(
    name: str, price: Decimal | str, currency_id: int, delivery_hours: int, options: dict[str, Any] | None
) -> dict[str, Any]:
    """The checked column values of a template, for create and update alike."""
    name = required("name", name)
    amount = decimal_of("price", price)
    if amount < 0:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, "price must not be negative")
    if currency_id not in CURRENCIES:
        known = ", ".join(f"{k}={v}" for k, v in CURRENCIES.items())
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"unknown currency id {currency_id} (known: {known})")
    if not MIN_DELIVERY_HOURS <= delivery_hours <= MAX_DELIVERY_HOURS:
        raise ServiceError(ErrorCode.INVALID_PARAMETER,
                           f"delivery hours must be {MIN_DELIVERY_HOURS}-{MAX_DELIVERY_HOURS}")
    return {
        "name": name,
        "price_amount": amount.quantize(CENT),
        "currency_id": currency_id,
        "delivery_hours": delivery_hours,
        "options": validated_options(options or {}),
    }


def validated_options(raw: dict[str, Any]) -> dict[str, str]:
    """Template options checked against the one options table (rendering.options), in canonical form."""
    from rendering.options import OptionError, parse_options

    try:
        return parse_options({str(k): str(v) for k, v in raw.items()}).to_dict()
    except OptionError as exc:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, str(exc)) from None


def active_template(template_id: int) -> Template:
    template = db.session.get(Template, template_id)
    if template is None or not template.active:
        raise ServiceError(ErrorCode.UNKNOWN_TEMPLATE, f"no active template has id {template_id}")
    return template
