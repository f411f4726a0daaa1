"""Order intake: the API operations every protocol (REST, SOAP) calls: templates, POST Image, status.

Functions take plain values, raise ServiceError with an ErrorCode for anything
the caller did wrong, and commit their own work.
"""
from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import Integer, Row, Select, and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from infrastructure import credentials, ratelimit
from infrastructure.database import statements_alone
from infrastructure.extensions import db
from infrastructure.queues import enqueue_fetch, enqueue_soon
from orders import lifecycle
from orders.checks import ascii_digits, flag, optional_text, required
from orders.codes import FAILURE_DESCRIPTIONS, ErrorCode, FailureReason, Status
from orders.errors import ServiceError
from orders.finals import final_image_url
from orders.lookups import unknown_ticket
from orders.models import Customer, Order, Template, utcnow
from orders.templates import CENT, MAX_DELIVERY_HOURS, MIN_DELIVERY_HOURS

log = logging.getLogger(__name__)

MAX_URL_LENGTH = 2048
TEST_PRICE = Decimal("0.00")


@dataclass(frozen=True)
class AddImageRequest:
    """POST Image's parameters, as strings exactly as the caller sent them."""

    contact_email: str = ""
    contact_api_key: str = ""
    developer_api_key: str = ""
    template_id: str = ""
    image_url: str = ""
    image_url2: str = ""
    requested_hours: str = ""
    callback_url: str = ""
    idempotency_key: str = ""
    customer_image_id: str = ""
    product_id: str = ""
    instructions: str = ""
    test: str = ""  # "1"/"true": test mode


MAX_REFERENCE = 100  # CustomerImageId, ProductId
MAX_INSTRUCTIONS = 2000


@dataclass(frozen=True)
class CustomerWords:
    """What the customer says about an order in its own words."""

    customer_image_id: str | None
    product_id: str | None
    instructions: str | None
    test: bool

    @classmethod
    def of(cls, req: AddImageRequest) -> CustomerWords:
        return cls(optional_text("CustomerImageId", req.customer_image_id, MAX_REFERENCE),
                   optional_text("ProductId", req.product_id, MAX_REFERENCE),
                   optional_text("Instructions", req.instructions, MAX_INSTRUCTIONS, multiline=True),
                   flag("Test", req.test))


@dataclass(frozen=True)
class ImageStatus:
    ticket: str
    status: Status
    final_image_url: str
    message: str
    customer_image_id: str


# The columns an API call needs of an account: reading just these (not the ORM entity) keeps
# the hot API paths cheap. Table columns, not the entity's attributes: a Core select skips the
# ORM's compile and row processing, which cost a sign-in more than the query itself.
_CUSTOMERS, _TEMPLATES = Customer.__table__.c, Template.__table__.c
_ACCOUNT = (_CUSTOMERS.id, _CUSTOMERS.email, _CUSTOMERS.api_key_hash, _CUSTOMERS.active, _CUSTOMERS.is_developer,
            _CUSTOMERS.commission_pct, _CUSTOMERS.default_template_id)


_TEMPLATE = (_TEMPLATES.id, _TEMPLATES.price_amount, _TEMPLATES.currency_id, _TEMPLATES.delivery_hours)


# The hot paths' statements are built once: SQLAlchemy spends more on building a
# statement and its cache key than on running it.
_ACCOUNT_BY_EMAIL = select(*_ACCOUNT).where(_CUSTOMERS.email == bindparam("email"))


_ACCOUNT_BY_KEY_HASH = select(*_ACCOUNT).where(_CUSTOMERS.api_key_hash == bindparam("key_hash"))


# POST Image's sign-in: the account and, in the same round trip, the active template the order
# names (template_id) or else the account's default; the template columns are None if there is none.
_ACCOUNT_WITH_TEMPLATE = select(*_ACCOUNT, *(column.label(f"template_{column.name}") for column in _TEMPLATE)) \
    .outerjoin(Template.__table__, and_(
        _TEMPLATES.id == func.coalesce(bindparam("template_id", type_=Integer), _CUSTOMERS.default_template_id),
        _TEMPLATES.active.is_(True))) \
    .where(_CUSTOMERS.email == bindparam("email"))


def authenticate(email: str, api_key: str) -> Row:
    """The caller's account (a row of _ACCOUNT's columns), or invalidCredentials / missingParameter."""
    return _sign_in(email, api_key, _ACCOUNT_BY_EMAIL)


def _sign_in(email: str, api_key: str, statement: Select, **params: object) -> Row:
    """authenticate, with a statement that reads the account's _ACCOUNT columns (and maybe more)."""

    def find() -> Row:
        checked_email, checked_key = required("ContactEmail", email), required("ContactAPIkey", api_key)
        account = db.session.execute(statement, {"email": checked_email.lower(), **params}).first()
        _check_key(account, checked_key)
        return account

    return _counted_sign_in(email, find)


def _counted_sign_in(email: str, find: Callable[[], Row]) -> Row:
    """Sign in with `find`, counting the call against the account's rate limit.

    A failed sign-in (missing or wrong credentials) is counted for the caller's
    address and for the e-mail instead; past SIGN_IN_FAILURE_LIMIT it answers 429.
    """
    try:
        account = find()
    except ServiceError:
        ratelimit.count_failed_sign_in(email)
        raise
    ratelimit.count_account(account.id)
    return account


def _check_key(account: Any, api_key: str) -> None:
    """account: a Customer or a row with api_key_hash and active; None if the e-mail is unknown."""
    # Compare even for an unknown e-mail, so timing does not tell which e-mails exist.
    stored = account.api_key_hash if account is not None else "0" * 64
    if not credentials.key_matches(api_key, stored) or account is None or not account.active:
        raise ServiceError(ErrorCode.INVALID_CREDENTIALS,
                           "ContactEmail and ContactAPIkey do not match an active account")


def list_templates(email: str, api_key: str) -> list[Template]:
    authenticate(email, api_key)
    return list(db.session.scalars(db.select(Template).where(Template.active.is_(True)).order_by(Template.id)))


@dataclass(frozen=True)
class PlacedOrder:
    id: int
    ticket: str


def add_image(req: AddImageRequest) -> PlacedOrder:
    """Validate, commit the order, then queue its first job.

    The order is committed before the queue is touched: if Redis is down the
    customer still gets a ticket, and the sweep queues the order later.
    """
    # Each statement commits alone: the reads need no snapshot together, and the write is one
    # statement (lifecycle.create), so no BEGIN and COMMIT round trips.
    statements_alone(db.session)
    customer = _sign_in(req.contact_email, req.contact_api_key, _ACCOUNT_WITH_TEMPLATE,
                        template_id=_named_template(req.template_id))
    developer = _developer(req.developer_api_key, customer)
    template = _template_for(req.template_id, customer)
    image_url = http_url("ImageURL", req.image_url, required=True)
    image_url2 = http_url("ImageURL2", req.image_url2)
    callback_url = http_url("ImageCallbackURL", req.callback_url)
    hours = _delivery_hours(req.requested_hours, template.delivery_hours)
    words = CustomerWords.of(req)
    key = _idempotency_key(req.idempotency_key)
    digest = _request_digest(template.id, image_url, image_url2, callback_url, hours, developer, words) if key \
        else None
    if key:
        earlier = _replay(customer.id, key, digest)
        if earlier is not None:
            return earlier

    now = utcnow()
    ticket = str(uuid.uuid4())
    try:
        order_id = _insert_order(ticket, customer, developer, template, image_url, image_url2, callback_url,
                                 hours, now, key, digest, words)
    except IntegrityError:
        # Another POST with this key got there first: the database's unique constraint decides.
        db.session.rollback()
        earlier = _replay(customer.id, key, digest) if key else None
        if earlier is None:
            raise
        return earlier
    _queue_first_job(order_id)
    return PlacedOrder(order_id, ticket)


def _insert_order(ticket: str, customer: Row, developer: Row | None, template: Row, image_url: str,
                  image_url2: str | None, callback_url: str | None, hours: int, now: datetime, key: str | None,
                  digest: str | None, words: CustomerWords) -> int:
    # A test order costs nothing and earns no commission (orders.testmode).
    price = TEST_PRICE if words.test else template.price_amount
    order_id = lifecycle.create(
        dict(
            ticket=ticket,
            customer_id=customer.id,
            developer_id=developer.id if developer else None,
            commission_amount=None if words.test else _commission(template.price_amount, developer),
            template_id=template.id,
            price_amount=price,
            currency_id=template.currency_id,
            image_url=image_url,
            image_url2=image_url2,
            callback_url=callback_url,
            delivery_hours=hours,
            due_at=now + timedelta(hours=hours),
            created_at=now,
            updated_at=now,
            idempotency_key=key,
            request_digest=digest,
            customer_image_id=words.customer_image_id,
            product_id=words.product_id,
            instructions=words.instructions,
            is_test=words.test,
        ),
        actor=f"customer:{customer.email}",
    )
    db.session.commit()
    return order_id


# A key names one order for this long; after it, the same key places a new one (Stripe's rule).
IDEMPOTENCY_WINDOW = timedelta(hours=24)
MAX_IDEMPOTENCY_KEY = 255


def _idempotency_key(value: str) -> str | None:
    value = (value or "").strip()
    if len(value) > MAX_IDEMPOTENCY_KEY:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"IdempotencyKey is longer than {MAX_IDEMPOTENCY_KEY} "
                                                        "characters")
    return value or None


def _request_digest(template_id: int, image_url: str, image_url2: str | None, callback_url: str | None,
                    hours: int, developer: Row | None, words: CustomerWords) -> str:
    """What the order asks for, as the replay of a key must ask it again."""
    parts = [str(template_id), image_url, image_url2 or "", callback_url or "", str(hours),
             str(developer.id if developer else ""), words.customer_image_id or "", words.product_id or "",
             words.instructions or "", "test" if words.test else ""]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _replay(customer_id: int, key: str, digest: str | None) -> PlacedOrder | None:
    """The order an earlier POST with this key placed, if it is within the window; else None.

    A key older than the window is released (cleared from its order) so it can place a new one.
    """
    earlier = db.session.execute(
        select(Order.id, Order.ticket, Order.request_digest, Order.created_at)
        .where(Order.customer_id == customer_id, Order.idempotency_key == key)).first()
    if earlier is None:
        return None
    if utcnow() - earlier.created_at >= IDEMPOTENCY_WINDOW:
        db.session.execute(db.update(Order).where(Order.id == earlier.id).values(idempotency_key=None))
        db.session.commit()
        return None
    if earlier.request_digest != digest:
        raise ServiceError(ErrorCode.IDEMPOTENCY_CONFLICT,
                           "this IdempotencyKey was used within 24 h for other parameters")
    db.session.rollback()  # end the read transaction; nothing to write
    return PlacedOrder(earlier.id, earlier.ticket)


# Built once: constructing the statement cost more than running it.
_STATUS_QUERY = (
    select(
        Customer.id, Customer.api_key_hash, Customer.active, Order.ticket, Order.status, Order.final_token,
        Order.final_path, Order.failure_reason, Order.failure_message, Order.customer_image_id,
    )
    .outerjoin(Order, and_(Order.customer_id == Customer.id, Order.ticket == bindparam("ticket")))
    .where(Customer.email == bindparam("email"))
)


def image_status(email: str, api_key: str, ticket: str) -> ImageStatus:
    """The most frequent call of all (customers poll): one query for account and order."""
    def find() -> Row:
        checked_email, checked_key = required("ContactEmail", email), required("ContactAPIkey", api_key)
        # One statement, nothing written: autocommit spares the BEGIN and ROLLBACK round trips.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            found = connection.execute(_STATUS_QUERY, {"email": checked_email.lower(),
                                                       "ticket": ticket.lower()}).first()
        _check_key(found, checked_key)
        return found

    ticket = required("ImageTicket", ticket)
    row = _counted_sign_in(email, find)
    if row.ticket is None:
        # Another customer's ticket answers exactly like one that does not exist.
        raise unknown_ticket(ticket)
    order = row
    return ImageStatus(
        ticket=order.ticket,
        status=Status(order.status),
        final_image_url=final_image_url(order),
        message=status_message(order),
        customer_image_id=order.customer_image_id or "",
    )


def status_message(order: Order | Row) -> str:
    """What the customer reads: the reason and its detail, except where the detail tells about networks.

    What a fetch met on the way (could not connect, timed out, HTTP 403, a
    private address) would make the status a scanner of what answers where;
    for those the customer gets the reason's general words, operators the detail.
    """
    if order.status in (Status.FAILED, Status.REJECTED) and order.failure_reason:
        if order.failure_reason in _NETWORK_REASONS:
            return f"{order.failure_reason}: {FAILURE_DESCRIPTIONS[FailureReason(order.failure_reason)]}"
        return f"{order.failure_reason}: {order.failure_message or ''}".rstrip(": ")
    return ""


_NETWORK_REASONS = {FailureReason.DOWNLOAD_FAILED.value, FailureReason.BLOCKED_ADDRESS.value}


def _developer(api_key: str, customer: Row) -> Row | None:
    """The developer partner the order is credited to, if any.

    The reference lets a customer send its own key as developer key for tests:
    that is accepted and earns no commission.
    """
    api_key = (api_key or "").strip()
    if not api_key or credentials.key_matches(api_key, customer.api_key_hash):
        return None
    developer = db.session.execute(_ACCOUNT_BY_KEY_HASH, {"key_hash": credentials.hash_key(api_key)}).first()
    if developer is None or not developer.active:
        raise ServiceError(ErrorCode.INVALID_CREDENTIALS, "developerAPIkey does not match an active account")
    return developer if developer.is_developer else None


def _commission(price: Decimal, developer: Row | None) -> Decimal | None:
    if developer is None:
        return None
    return (price * developer.commission_pct / 100).quantize(CENT, rounding=ROUND_HALF_UP)


class TemplateTerms(NamedTuple):
    """What an order takes from its template."""

    id: int
    price_amount: Decimal
    currency_id: int
    delivery_hours: int


_MAX_ID = 2**31 - 1


def _well_formed_template_id(template_id: str) -> bool:
    return ascii_digits(template_id) and len(template_id) <= 12


def _named_template(template_id: str) -> int | None:
    """The template id a POST names, for the sign-in's join; None if it names none (or none that can exist)."""
    template_id = (template_id or "").strip()
    if not template_id or not _well_formed_template_id(template_id):
        return None  # _template_for answers the malformed id, once the caller is signed in
    # An id past the column's range names no template (rather than failing the query).
    return int(template_id) if int(template_id) <= _MAX_ID else -1


def _template_for(template_id: str, account: Row) -> TemplateTerms | Row:
    """The template an order uses: the one named, else the customer's default, else the first active one.

    `account`: from _ACCOUNT_WITH_TEMPLATE, which has joined the named or the default one if active.
    """
    template_id = (template_id or "").strip()
    if template_id and not _well_formed_template_id(template_id):
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"templateId must be a number, not {template_id!r}")
    if account.template_id is not None:
        return TemplateTerms(account.template_id, account.template_price_amount, account.template_currency_id,
                             account.template_delivery_hours)
    if template_id:
        raise ServiceError(ErrorCode.UNKNOWN_TEMPLATE, f"no active template has id {template_id}")
    first_active = select(*_TEMPLATE).where(_TEMPLATES.active.is_(True)).order_by(_TEMPLATES.id).limit(1)
    fallback = db.session.execute(first_active).first()
    if fallback is None:
        raise ServiceError(ErrorCode.MISSING_PARAMETER, "templateId is required: no default template is set")
    return fallback


def http_url(name: str, value: str, *, required: bool = False) -> str | None:
    """A customer-given URL, checked for form only: where it leads is the fetcher's to judge."""
    value = (value or "").strip()
    if not value:
        if required:
            raise ServiceError(ErrorCode.MISSING_PARAMETER, f"{name} is required")
        return None
    if len(value) > MAX_URL_LENGTH:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"{name} is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"{name} must be an absolute http or https URL")
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ServiceError(ErrorCode.INVALID_PARAMETER, f"{name} must not contain spaces or control characters")
    return value


def _delivery_hours(requested: str, template_hours: int) -> int:
    requested = (requested or "").strip()
    if not requested:
        return template_hours
    if not ascii_digits(requested) or not MIN_DELIVERY_HOURS <= int(requested) <= MAX_DELIVERY_HOURS:
        raise ServiceError(
            ErrorCode.INVALID_PARAMETER,
            f"ImageRequestedDeliveryTimeInHours must be a whole number "
            f"from {MIN_DELIVERY_HOURS} to {MAX_DELIVERY_HOURS}",
        )
    return int(requested)


def _queue_first_job(order_id: int) -> None:
    enqueue_soon(enqueue_fetch, order_id)
