"""The dashboard's answer to a refused action: undo the transaction, say why, go back to a page."""
from __future__ import annotations

from flask import Response, flash, redirect, url_for

from infrastructure.extensions import db
from orders.errors import ServiceError


def back(exc: ServiceError, endpoint: str, **values: object) -> Response:
    db.session.rollback()
    flash(exc.message, "error")
    return redirect(url_for(endpoint, **values))
