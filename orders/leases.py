"""Leases: how long a claimed order stays with the person holding it, review and QA alike.

A page renews the lease while it is open (every minute); one left open past the lease without a
renewal loses the order, which is how a closed tab gives work back.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from infrastructure.extensions import db
from orders.models import Order, utcnow


def length() -> timedelta:
    return timedelta(seconds=current_app.config["REVIEW_LEASE_SECONDS"])


def expiry() -> datetime:
    """When a lease taken or renewed now runs out."""
    return utcnow() + length()


def renew(order: Order) -> datetime:
    """A fresh lease on an order the caller checked its holder holds; commits."""
    order.lease_expires_at = expiry()
    db.session.commit()
    return order.lease_expires_at
