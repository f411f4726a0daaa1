"""Sign in and out. Failures slow their (name, address) down (orders.operators); the limiter caps tries per address."""
from __future__ import annotations

from flask import Response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from dashboard import PREFIX, bp
from infrastructure.extensions import limiter
from orders import operators
from orders.errors import ServiceError

# Per client address, on top of the per-(name, address) delays: slows guessing across many names.
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
        operator = operators.login(name, request.form.get("password", ""), request.remote_addr)
    except ServiceError as exc:
        return render_template("dashboard/login.html", next=target, name=name, error=exc.message), 401
    session.clear()  # nothing from before the sign-in carries over into the operator's session
    session.permanent = True  # lives DASHBOARD_SESSION_HOURS, see dashboard._secure_cookies
    login_user(operator)
    return redirect(target)


@bp.post("/logout")
def logout() -> Response:
    if current_user.is_authenticated:
        operators.end_sessions(current_user)  # a copy of the cookie is worthless from now on
    logout_user()
    session.clear()
    return redirect(url_for("dashboard.login"))


def _safe_next(target: str | None) -> str:
    """Only a path on the dashboard itself: never an open redirect to another site."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.queue")
