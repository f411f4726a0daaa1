"""Admin pages: customers, templates, operators and an order's whole record. Admin role only."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from dashboard import forms, require_admin
from dashboard.flashing import back
from orders import billing, callbacks, lookups, operators, previews
from orders import customers as customer_service
from orders import templates as template_service
from orders.codes import CURRENCIES, Level
from orders.errors import ServiceError

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only() -> None:
    require_admin()


def _checked(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true")


# --- customers -------------------------------------------------------------------------


@bp.get("/customers")
def customers() -> str:
    return render_template("dashboard/admin/customers.html",
                           customers=customer_service.list_customers(forms.page_number(request.args.get("page"))))


@bp.post("/customers")
def create_customer():
    try:
        customer, api_key = customer_service.create_customer(
            request.form.get("email", ""), developer=_checked("developer"),
            commission_pct=request.form.get("commission") or None)
    except ServiceError as exc:
        return back(exc, "dashboard.admin.customers")
    # Rendered straight away, never flashed: a flash would carry the key in the session cookie.
    return render_template("dashboard/admin/api_key.html", customer=customer, api_key=api_key, created=True)


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int) -> str:
    found = customer_service.customer_by_id(customer_id)
    return render_template("dashboard/admin/customer.html", customer=found,
                           orders=customer_service.customer_orders(customer_id,
                                                                   forms.page_number(request.args.get("page"))))


@bp.get("/customers/<int:customer_id>/statements")
def statements(customer_id: int) -> str:
    found = customer_service.customer_by_id(customer_id)
    month = billing.Month.parse(request.args.get("month") or str(billing.recent_months(1)[0]))
    return render_template("dashboard/admin/statement.html", customer=found, month=month,
                           statement=billing.statement_of(customer_id, month), months=billing.recent_months(),
                           currencies=CURRENCIES)


@bp.get("/customers/<int:customer_id>/statements/<month>.csv")
def statement_csv(customer_id: int, month: str) -> Response:
    found = billing.statement_of(customer_service.customer_by_id(customer_id).id, billing.Month.parse(month))
    response = Response(billing.statement_csv(found), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="statement-{customer_id}-{found.month}.csv"'
    return response


@bp.post("/customers/<int:customer_id>/active")
def set_customer_active(customer_id: int) -> Response:
    found = customer_service.customer_by_id(customer_id)
    customer_service.set_customer_active(found.email, _checked("active"))
    flash(f"{found.email} is now {'enabled' if found.active else 'disabled'}.")
    return redirect(url_for("dashboard.admin.customer", customer_id=customer_id))


@bp.post("/customers/<int:customer_id>/rotate-key")
def rotate_key(customer_id: int) -> str:
    found = customer_service.customer_by_id(customer_id)
    api_key = customer_service.rotate_key(found.email)
    return render_template("dashboard/admin/api_key.html", customer=found, api_key=api_key, created=False)


@bp.post("/customers/<int:customer_id>/rotate-webhook-secret")
def rotate_webhook_secret(customer_id: int) -> Response:
    found = customer_service.customer_by_id(customer_id)
    customer_service.rotate_webhook_secret(found.email)
    flash("New signing secret. Callbacks carry a signature by the old one too for 24 hours.")
    return redirect(url_for("dashboard.admin.customer", customer_id=customer_id))


# --- templates -------------------------------------------------------------------------


@bp.get("/templates")
def templates() -> str:
    return render_template("dashboard/admin/templates.html", templates=template_service.all_templates(),
                           currencies=sorted(CURRENCIES.items()))


@bp.post("/templates")
def create_template() -> Response:
    try:
        created = template_service.create_template(**_template_form())
    except ServiceError as exc:
        return back(exc, "dashboard.admin.templates")
    flash(f"Template {created.id} {created.name} created.")
    return redirect(url_for("dashboard.admin.templates"))


@bp.get("/templates/<int:template_id>")
def template(template_id: int) -> str:
    found = template_service.template_by_id(template_id)
    options = "\n".join(f"{key}={value}" for key, value in (found.options or {}).items())
    return render_template("dashboard/admin/template.html", template=found, options=options,
                           currencies=sorted(CURRENCIES.items()))


@bp.post("/templates/<int:template_id>")
def update_template(template_id: int) -> Response:
    try:
        template_service.update_template(template_id, **_template_form())
    except ServiceError as exc:
        return back(exc, "dashboard.admin.template", template_id=template_id)
    flash("Template saved.")
    return redirect(url_for("dashboard.admin.template", template_id=template_id))


@bp.post("/templates/<int:template_id>/active")
def set_template_active(template_id: int) -> Response:
    changed = template_service.set_template_active(template_id, _checked("active"))
    flash(f"Template {changed.id} is now {'active' if changed.active else 'inactive'}.")
    return redirect(url_for("dashboard.admin.templates"))


def _template_form() -> dict:
    return {
        "name": request.form.get("name", ""),
        "price": request.form.get("price", ""),
        "currency_id": forms.whole_number("currency", request.form.get("currency_id")),
        "delivery_hours": forms.whole_number("delivery hours", request.form.get("delivery_hours")),
        "options": forms.option_lines(request.form.get("options", "")),
    }


# --- operators -------------------------------------------------------------------------


@bp.get("/operators")
def operators_page() -> str:
    return render_template("dashboard/admin/operators.html", operators=operators.list_operators(),
                           levels=[level.value for level in Level])


@bp.post("/operators")
def create_operator() -> Response:
    try:
        created = operators.create_operator(request.form.get("name", ""), request.form.get("password", ""),
                                            admin=_checked("admin"), senior=_checked("senior"))
    except ServiceError as exc:
        return back(exc, "dashboard.admin.operators_page")
    flash(f"Created {created.role} {created.name} ({created.level}).")
    return redirect(url_for("dashboard.admin.operators_page"))


@bp.post("/operators/active")
def set_operator_active() -> Response:
    try:
        changed = operators.set_active(request.form.get("name", ""), _checked("active"))
    except ServiceError as exc:
        return back(exc, "dashboard.admin.operators_page")
    flash(f"{changed.name} is now {'enabled' if changed.active else 'disabled'}.")
    return redirect(url_for("dashboard.admin.operators_page"))


@bp.post("/operators/level")
def set_operator_level() -> Response:
    try:
        changed = operators.set_level(request.form.get("name", ""), request.form.get("level", ""))
    except ServiceError as exc:
        return back(exc, "dashboard.admin.operators_page")
    flash(f"{changed.name} is now {changed.level}; it counts from their next claim or approval.")
    return redirect(url_for("dashboard.admin.operators_page"))


@bp.post("/operators/password")
def set_operator_password() -> Response:
    name = request.form.get("name", "")
    try:
        changed = operators.set_password(name, request.form.get("password", ""))
    except ServiceError as exc:
        return back(exc, "dashboard.admin.operators_page")
    if changed.id == current_user.id:
        login_user(changed)  # a new password ends the other sessions, not this one
    flash(f"Password of {name} changed; its other sessions are signed out.")
    return redirect(url_for("dashboard.admin.operators_page"))


# --- one order's whole record ------------------------------------------------------------


@bp.get("/orders")
def find_order() -> Response | str:
    ticket = request.args.get("ticket", "").strip()
    if ticket:
        return redirect(url_for("dashboard.admin.order", ticket=ticket))
    return render_template("dashboard/admin/find_order.html")


@bp.get("/orders/<ticket>")
def order(ticket: str) -> str:
    found = lookups.order_by_ticket(ticket)
    files = [(label, kind) for label, kind, path in (
        ("Original", previews.Kind.ORIGINAL, found.original_path),
        ("Draft preview", previews.Kind.PREVIEW, found.preview_path),
        ("Final", previews.Kind.FINAL, found.final_path),
    ) if path]
    return render_template("dashboard/admin/order.html", order=found, files=files,
                           events=found.events, versions=found.mask_versions,
                           callback_attempts=callbacks.attempts_of(ticket))


@bp.post("/orders/<ticket>/resend-callback")
def resend_callback(ticket: str) -> Response:
    try:
        callbacks.resend(ticket)
    except ServiceError as exc:
        return back(exc, "dashboard.admin.order", ticket=ticket)
    flash("Callback queued.")
    return redirect(url_for("dashboard.admin.order", ticket=ticket))
