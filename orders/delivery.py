"""Finished images at FINALIMAGEURL: unguessable token, right type, ETag and ranges."""
from __future__ import annotations

import mimetypes
from datetime import timedelta

from flask import Blueprint, abort, current_app, send_file
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from orders import storage
from orders.codes import Status
from orders.extensions import db
from orders.models import Order, utcnow

bp = Blueprint("delivery", __name__)


@bp.get("/files/<token>/<name>")
def final_file(token: str, name: str) -> ResponseReturnValue:
    order = db.session.scalar(select(Order).where(Order.final_token == token))
    if order is None or order.status != Status.DELIVERED:
        abort(404)
    files = {p.rsplit("/", 1)[-1]: p for p in (order.final_path, order.final_svg_path) if p}
    if name not in files:
        abort(404)
    path = storage.absolute(files[name])
    if not path.exists():
        abort(410)  # past FINAL_RETENTION_DAYS
    return send_file(path, mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream",
                     as_attachment=False, download_name=name, conditional=True, etag=True, max_age=3600)


def cleanup_finals(now=None) -> int:
    """Delete final files older than FINAL_RETENTION_DAYS; their URLs then answer 410. Returns how many orders."""
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
