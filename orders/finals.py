"""Finished images: finding one by its unguessable token, and deleting them after retention."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Row, select

from infrastructure import storage
from infrastructure.extensions import db
from orders.codes import Status
from orders.models import Order, utcnow


def final_image_url(order: Order | Row) -> str:
    """FINALIMAGEURL: where the customer downloads a delivered order's image; "" before that."""
    if order.status != Status.DELIVERED or not order.final_token or not order.final_path:
        return ""
    name = order.final_path.rsplit("/", 1)[-1]  # the customer's own file name, see orders.pipeline.deliver
    return f"{current_app.config['PUBLIC_BASE_URL']}/files/{order.final_token}/{name}"


def final_relpath(token: str, name: str) -> str | None:
    """The stored path of a delivered order's final file `name`, or None when there is none to give."""
    order = db.session.scalar(select(Order).where(Order.final_token == token))
    if order is None or order.status != Status.DELIVERED:
        return None
    files = {p.rsplit("/", 1)[-1]: p for p in (order.final_path, order.final_svg_path) if p}
    return files.get(name)


def cleanup_finals(now: datetime | None = None) -> int:
    """Delete final files older than FINAL_RETENTION_DAYS; their URLs then answer 410. Returns how many files."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["FINAL_RETENTION_DAYS"])
    old = db.session.scalars(select(Order).where(Order.status == int(Status.DELIVERED), Order.delivered_at < cutoff,
                                                 Order.final_path.is_not(None)))
    removed = 0
    for order in old:
        for relpath in (order.final_path, order.final_svg_path):
            if relpath and storage.absolute(relpath).exists():
                storage.absolute(relpath).unlink()
                removed += 1
    db.session.commit()
    return removed
