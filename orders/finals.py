"""Finished images: finding one by its unguessable token, and deleting them after retention.

Every delivery of an order (orders.models.Delivery) keeps its own token and files: after a redo
the earlier FINALIMAGEURL still answers until retention.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Row, select

from infrastructure import storage
from infrastructure.extensions import db
from orders.codes import Status
from orders.models import Delivery, Order, utcnow


def final_image_url(order: Order | Row, base_url: str | None = None) -> str:
    """FINALIMAGEURL: where the customer downloads a delivered order's image; "" before that.

    `base_url`: public_base_url(), read once by a caller that makes many.
    """
    if order.status != Status.DELIVERED or not order.final_token or not order.final_path:
        return ""
    name = order.final_path.rsplit("/", 1)[-1]  # the customer's own file name, see orders.pipeline.deliver
    return f"{base_url or public_base_url()}/files/{order.final_token}/{name}"


def public_base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def final_relpath(token: str, name: str) -> str | None:
    """The stored path of a delivered final file `name`, or None when there is none to give."""
    delivery = db.session.scalar(select(Delivery).where(Delivery.final_token == token))
    if delivery is None:
        return None
    files = {p.rsplit("/", 1)[-1]: p for p in (delivery.final_path, delivery.final_svg_path) if p}
    return files.get(name)


def cleanup_finals(now: datetime | None = None) -> int:
    """Delete final files older than FINAL_RETENTION_DAYS; their URLs then answer 410. Returns how many files."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["FINAL_RETENTION_DAYS"])
    old = db.session.scalars(select(Delivery).where(Delivery.delivered_at < cutoff))
    removed = 0
    for delivery in old:
        for relpath in (delivery.final_path, delivery.final_svg_path):
            if relpath and storage.delete(relpath):
                removed += 1
    db.session.commit()
    return removed
