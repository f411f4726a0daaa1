"""Sign in and out. Wrong passwords lock an account (orders.operators); the limiter also caps tries per address."""
from __future__ import annotations

from flask import Response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from dashboard import PREFIX, bp
from infrastructure.extensions import limiter
from orders import operators
from orders.codes import ErrorCode
from orders.errors import ServiceError

# Per client address, on top of the per-account lock: slows guessing across many names.
LOGIN_LIMIT = "10/minute;60/hour"


def _login_bucket() -> str:
    return "dashboard-login:" + (request.remote_addr or "unknown")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, key_func=_login_bucket, methods=["POST"])
def login():
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(target)
        return render_template("dashboard/login.html", next=target)
    name = request.form.get("name", "")
    try:
        operator = operators.login(name, request.form.get("password", ""))
    except ServiceError as exc:
        status = 429 if exc.code is ErrorCode.RATE_LIMITED else 401
        return render_template("dashboard/login.html", next=target, name=name, error=exc.message), status
    session.clear()  # nothing from before the sign-in carries over into the operator's session
    login_user(operator)
    return redirect(target)


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    session.clear()
    return redirect(url_for("dashboard.login"))


def _safe_next(target: str | None) -> str:
    """Only a path on the dashboard itself: never an open redirect to another site."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.queue")
