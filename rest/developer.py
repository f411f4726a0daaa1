"""The developer page: API overview, code tables and live test forms."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from orders.codes import CURRENCIES, ERROR_DESCRIPTIONS, FAILURE_DESCRIPTIONS, STATUS_DESCRIPTIONS, ErrorCode, Status

bp = Blueprint("developer", __name__)


@bp.get("/developer/")
def developer_page() -> str:
    return render_template(
        "developer.html",
        base_url=current_app.config["PUBLIC_BASE_URL"],
        statuses=[(s, STATUS_DESCRIPTIONS[s]) for s in Status],
        errors=[(e, e.http_status, ERROR_DESCRIPTIONS[e]) for e in ErrorCode],
        failures=list(FAILURE_DESCRIPTIONS.items()),
        currencies=sorted(CURRENCIES.items()),
    )


@bp.get("/")
def index() -> str:
    return render_template("index.html")
