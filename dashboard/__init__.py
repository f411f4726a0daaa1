"""The operators' dashboard at /dashboard/: sign-in, the review queue and page, bulk approval, admin, stats.

Views only translate: parse the request, call orders.review, orders.operators,
orders services (review, customers, templates, reports), render. Every page needs a signed-in operator;
the pages of the nested `dashboard.admin` blueprint also need the admin role.
The JSON endpoints the page scripts call live in `dashboard.api`.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, Response, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from infrastructure.extensions import db, login_manager
from orders import operators
from orders.errors import ServiceError
from orders.models import Operator

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
PREFIX = "/dashboard"
PUBLIC_ENDPOINTS = {"dashboard.login"}

# No inline script or style anywhere on the dashboard: everything comes from /static.
CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Mount the dashboard on an app whose login_manager and csrf are already bound."""
    _secure_cookies(app)
    app.register_blueprint(bp)
    app.after_request(_security_headers)


def _secure_cookies(app: Flask) -> None:
    https = app.config["PUBLIC_BASE_URL"].startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=https,
        # The token is bound to the session; a review page stays open all day, so
        # it must not lapse after Flask-WTF's default hour.
        WTF_CSRF_TIME_LIMIT=None,
        # A session ends DASHBOARD_SESSION_HOURS after sign-in (Flask checks the cookie's
        # signed time), not 31 days; not refreshed per request, so it is a working day at most.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=app.config["DASHBOARD_SESSION_HOURS"]),
        SESSION_REFRESH_EACH_REQUEST=False,
    )


def _security_headers(response: Response) -> Response:
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")  # pages show keys, names, orders
    return response


# --- who is signed in ------------------------------------------------------------------

login_manager.login_view = "dashboard.login"


@login_manager.user_loader
def _load_operator(session_id: str) -> Operator | None:
    return operators.operator_for_session(session_id)


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    if is_script_call():
        return _json_error("notSignedIn", "your session ended; sign in again", 401)
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("dashboard.login", next=target))


@bp.before_request
def _require_sign_in() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    return login_manager.unauthorized()


def require_admin() -> None:
    if not current_user.is_admin:
        abort(403)


# --- errors: JSON for the page scripts, a page for people -------------------------------


def is_script_call() -> bool:
    """A call of the dashboard's JSON API (its scripts), answered in JSON, not an HTML page."""
    return request.path.startswith(PREFIX + "/api/")


def _json_error(code: str, message: str, status: int) -> Response:
    response = jsonify(error=code, message=message)
    response.status_code = status
    return response


def _error(status: int, title: str, message: str) -> Response | tuple[str, int]:
    if is_script_call():
        return _json_error(title, message, status)
    return render_template("dashboard/error.html", title=title, message=message), status


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    db.session.rollback()
    return _error(exc.code.http_status, exc.code.value, exc.message)


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    return _error(400, "csrfRefused", f"the form was refused ({exc.description}); reload the page and try again")


@bp.errorhandler(403)
def _forbidden(exc):
    # abort(403, "why") names the need (e.g. the senior level); a bare abort(403) is the admin pages'.
    default = exc.description == type(exc).description
    return _error(403, "forbidden", "this page needs the admin role" if default else exc.description)


@bp.errorhandler(404)
def _not_found(_exc):
    return _error(404, "notFound", "there is nothing at this address")


@bp.errorhandler(413)
def _too_large(_exc):
    return _error(413, "requestTooLarge", "the upload is larger than allowed")


@bp.errorhandler(429)
def _too_many(exc):
    return _error(429, "rateLimited", f"too many attempts ({exc.description}); wait a minute and try again")


from dashboard import admin, api, auth, files, formatting, qa_pages, reports, views  # noqa: E402,F401  (they attach their routes)

formatting.register(bp)

bp.register_blueprint(api.bp)
bp.register_blueprint(admin.bp)
