"""Database tables: customers, templates, orders and each order's event history."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Identity, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infrastructure.extensions import db
from orders.codes import Level, Status

FIRST_TEMPLATE_ID = 2000001


def utcnow() -> datetime:
    """Naive UTC: SQLite has no time zones, so every timestamp is stored as UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


Money = Numeric(12, 2)


class Customer(db.Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    is_developer: Mapped[bool] = mapped_column(default=False)
    commission_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("10.00"))
    webhook_secret: Mapped[str] = mapped_column(String(64))
    # The secret before the last rotation: callbacks are signed with both for a while after it
    # (orders.callbacks.ROTATION_OVERLAP), so receivers can switch without losing one.
    previous_webhook_secret: Mapped[str | None] = mapped_column(String(64))
    webhook_secret_rotated_at: Mapped[datetime | None]
    default_template_id: Mapped[int | None] = mapped_column(ForeignKey("templates.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    default_template: Mapped[Template | None] = relationship(foreign_keys=[default_template_id])


class Template(db.Model):
    __tablename__ = "templates"
    __table_args__ = {"sqlite_autoincrement": True}

    # Seven-digit ids as in the reference API; SQLite's counter is seeded by the migration.
    id: Mapped[int] = mapped_column(Identity(start=FIRST_TEMPLATE_ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    price_amount: Mapped[Decimal] = mapped_column(Money)
    currency_id: Mapped[int]
    delivery_hours: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_due", "status", "due_at"),
        # GET Images: a customer's orders newest first, a page at a time (orders.listing).
        Index("ix_orders_customer_created", "customer_id", "created_at", "id"),
        Index("ix_orders_customer_image_id", "customer_id", "customer_image_id"),
        # Statements: what a customer was billed, and a developer partner earned, in a month (orders.billing).
        Index("ix_orders_customer_billed", "customer_id", "billed_at"),
        Index("ix_orders_developer_billed", "developer_id", "billed_at"),
        # One order per customer and idempotency key, however many POSTs race (orders.intake).
        UniqueConstraint("customer_id", "idempotency_key", name="uq_orders_customer_idempotency_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    ticket: Mapped[str] = mapped_column(String(36), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    developer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    commission_amount: Mapped[Decimal | None] = mapped_column(Money)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id"))
    price_amount: Mapped[Decimal] = mapped_column(Money)
    currency_id: Mapped[int]
    image_url: Mapped[str] = mapped_column(Text)
    image_url2: Mapped[str | None] = mapped_column(Text)
    callback_url: Mapped[str | None] = mapped_column(Text)
    # The customer's own words about the order: its reference, its product, and notes for the operator.
    customer_image_id: Mapped[str | None] = mapped_column(String(100))
    product_id: Mapped[str | None] = mapped_column(String(100))
    instructions: Mapped[str | None] = mapped_column(Text)
    # Test mode: price 0, approved by no operator, delivered watermarked, never billed or counted in stats.
    is_test: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # The customer's Idempotency-Key, and a digest of what was asked with it (a replay must match).
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_digest: Mapped[str | None] = mapped_column(String(64))
    delivery_hours: Mapped[int]
    due_at: Mapped[datetime]
    status: Mapped[int] = mapped_column(default=int(Status.RECEIVED))
    failure_reason: Mapped[str | None] = mapped_column(String(40))
    failure_message: Mapped[str | None] = mapped_column(Text)
    original_path: Mapped[str | None] = mapped_column(Text)
    original_sha256: Mapped[str | None] = mapped_column(String(64))
    original_format: Mapped[str | None] = mapped_column(String(10))
    original_width: Mapped[int | None]
    original_height: Mapped[int | None]
    draft_confidence: Mapped[float | None]
    draft_inference_ms: Mapped[float | None]
    preview_path: Mapped[str | None] = mapped_column(Text)
    mask_path: Mapped[str | None] = mapped_column(Text)  # the latest mask version
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    lease_expires_at: Mapped[datetime | None]
    final_path: Mapped[str | None] = mapped_column(Text)
    final_sha256: Mapped[str | None] = mapped_column(String(64))
    final_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    final_svg_path: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    # When the order became chargeable: its first delivery (a redo delivers again, and bills nothing).
    billed_at: Mapped[datetime | None]
    # How many times the customer sent the delivered image back (orders.redo); > 0 while in review means a redo.
    redo_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set while an order QA sent back is with its operator again (orders.qa): first in their claim-next,
    # skipped by everyone else's, and their re-approval is checked again. Cleared by the next decision.
    returned_to_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    callback_state: Mapped[str | None] = mapped_column(String(20))  # an orders.codes.CallbackState
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(foreign_keys=[customer_id])
    claimed_by: Mapped[Operator | None] = relationship(foreign_keys=[claimed_by_id])
    returned_to: Mapped[Operator | None] = relationship(foreign_keys=[returned_to_id])
    developer: Mapped[Customer | None] = relationship(foreign_keys=[developer_id])
    template: Mapped[Template] = relationship()
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )
    mask_versions: Mapped[list[MaskVersion]] = relationship(
        back_populates="order", order_by="MaskVersion.number", cascade="all, delete-orphan"
    )
    deliveries: Mapped[list[Delivery]] = relationship(order_by="Delivery.number", cascade="all, delete-orphan")
    redo_requests: Mapped[list[RedoRequest]] = relationship(order_by="RedoRequest.number",
                                                           cascade="all, delete-orphan")

    @property
    def status_enum(self) -> Status:
        return Status(self.status)


class OrderEvent(db.Model):
    """One row per status change, written only by orders.lifecycle."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[int | None]
    to_status: Mapped[int]
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship(back_populates="events")


class MaskVersion(db.Model):
    """Every mask an order ever had: 0 is the machine draft, then each save.

    Files are never overwritten, so any version can be looked at or restored.
    """

    __tablename__ = "mask_versions"
    __table_args__ = (UniqueConstraint("order_id", "number"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))  # see MASK_SOURCES
    author: Mapped[str] = mapped_column(String(100))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="mask_versions")


MASK_SOURCES = ("model", "region", "brush")


class Delivery(db.Model):
    """Every final an order was delivered with: 1 is the first, each redo adds one.

    Each has its own token and files, so an earlier FINALIMAGEURL keeps working after a redo
    until retention. The order's final_* columns name the latest.
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("order_id", "number"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    final_path: Mapped[str] = mapped_column(Text)
    final_sha256: Mapped[str] = mapped_column(String(64))
    final_svg_path: Mapped[str | None] = mapped_column(Text)
    final_token: Mapped[str] = mapped_column(String(64), unique=True)
    mask_version: Mapped[int | None]  # the mask version rendered


class RedoRequest(db.Model):
    """A customer's rejection of a delivered image: their comment and, if sent, their markup image."""

    __tablename__ = "redo_requests"
    __table_args__ = (UniqueConstraint("order_id", "number"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1 for the first redo
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    comment: Mapped[str] = mapped_column(Text)
    markup_url: Mapped[str | None] = mapped_column(Text)
    markup_state: Mapped[str] = mapped_column(String(20))  # an orders.codes.MarkupState
    markup_path: Mapped[str | None] = mapped_column(Text)
    markup_note: Mapped[str | None] = mapped_column(Text)  # why the markup is unavailable


class Operator(db.Model):
    """A person who reviews orders (role operator) or also runs the shop (role admin)."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="operator")
    level: Mapped[str] = mapped_column(String(20), default="operator", server_default="operator")  # a codes.Level
    active: Mapped[bool] = mapped_column(default=True)
    # The review page's cleanup settings this operator chose (orders.cleanup_settings); None: the starting ones.
    cleanup_settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Advanced by signing out: every session cookie issued before then stops working.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Flask-Login's user interface.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_senior(self) -> bool:
        """Seniors (and admins) get hard drafts first, check QA samples and are never sampled."""
        return self.is_admin or self.level == Level.SENIOR.value

    @property
    def effective_level(self) -> str:
        """The level that decides routing and QA (a codes.Level value): an admin's is senior."""
        return (Level.SENIOR if self.is_senior else Level.OPERATOR).value

    def get_id(self) -> str:
        # The session names the password and the session generation too (a digest of
        # both), so a new password or a sign-out ends every session issued before it.
        return f"{self.id}:{self.password_stamp}"

    @property
    def password_stamp(self) -> str:
        return hashlib.sha256(f"{self.password_hash}:{self.session_generation}".encode()).hexdigest()[:20]


class ReviewSession(db.Model):
    """One operator's time on one order, from claim to approve, reject or release.

    The dashboard's seconds-per-order and per-operator figures come from here.
    """

    __tablename__ = "review_sessions"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))  # approved, rejected, released, expired
    edits: Mapped[int] = mapped_column(default=0)


class CallbackAttempt(db.Model):
    """One POST to a customer's callback URL: when, what came back, how long it took."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    url: Mapped[str] = mapped_column(Text)
    status_id: Mapped[int]  # the order status the callback announced
    http_status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)  # a short reason: "connection refused"
    error_detail: Mapped[str | None] = mapped_column(Text)  # what the HTTP client said, for operators
    duration_ms: Mapped[float]
    ok: Mapped[bool]


class QaCheck(db.Model):
    """One sampled approval: whose it was, why it was picked, and what the senior decided.

    Stats read first-pass yield (passed / decided) and QA returns per operator from here; the operator's
    review page shows the latest returned check's note at its pinned point.
    """

    __tablename__ = "qa_checks"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)  # who approved
    reason: Mapped[str] = mapped_column(String(20))  # a codes.QaReason
    sampled_at: Mapped[datetime] = mapped_column(default=utcnow)
    senior_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    decided_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))  # a codes.QaOutcome; None while waiting
    note: Mapped[str | None] = mapped_column(Text)
    # The point the note is pinned to, in pixels of the upright original.
    point_x: Mapped[int | None]
    point_y: Mapped[int | None]

    operator: Mapped[Operator] = relationship(foreign_keys=[operator_id])
    senior: Mapped[Operator | None] = relationship(foreign_keys=[senior_id])
