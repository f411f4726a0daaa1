"""Seniors' QA pages: the list of orders in 55 In QA, claiming one, and the check page (pass or send back).

Seniors and admins only (orders.qa also refuses anyone else); operators get 403. A senior never
checks their own approval: orders.qa refuses the claim.
"""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from dashboard import bp, forms
from dashboard.flashing import back
from infrastructure.extensions import db
from orders import lookups, masks, previews, qa
from orders.errors import ServiceError

QA_ROWS = 100
VIEW_SIZE = 1600  # the longest side of the images the check page shows; full resolution is not needed to judge


def require_senior() -> None:
    if not current_user.is_senior:
        abort(403, "QA pages are for senior operators")


@bp.get("/qa")
def qa_list() -> str:
    require_senior()
    orders = qa.waiting(limit=QA_ROWS)
    return render_template("dashboard/qa_list.html", orders=orders, checks=qa.open_checks(orders),
                           count=qa.waiting_count())


@bp.post("/qa/claim-next")
def qa_claim_next() -> Response:
    require_senior()
    order = qa.claim_next(current_user)
    if order is None:
        flash("Nothing is waiting for QA that you may check (your own approvals go to another senior).")
        return redirect(url_for("dashboard.qa_list"))
    return redirect(url_for("dashboard.qa_page", ticket=order.ticket))


@bp.post("/qa/<ticket>/claim")
def qa_claim(ticket: str) -> Response:
    require_senior()
    try:
        order = qa.claim(current_user, ticket)
    except ServiceError as exc:
        return back(exc, "dashboard.qa_list")
    return redirect(url_for("dashboard.qa_page", ticket=order.ticket))


@bp.get("/qa/<ticket>")
def qa_page(ticket: str):
    require_senior()
    return _check_page(ticket)


def _check_page(ticket: str, *, error: str | None = None, note: str = "", point: tuple | None = None, status=200):
    order = lookups.order_by_ticket(ticket)
    try:
        _held, check = qa.held(current_user, ticket)
    except ServiceError as exc:
        db.session.rollback()
        return render_template("dashboard/error.html", title="notChecking",
                               message=f"{exc.message}; open it from the QA list"), 409
    width, height = previews.upright_size(order.mask_path)
    files = url_for("dashboard.order_image", ticket=order.ticket, kind="original").rsplit("/", 1)[0] + "/"
    return render_template(
        "dashboard/qa.html", order=order, check=check, width=width, height=height,
        original_url=f"{files}original?size={VIEW_SIZE}",
        mask_url=f"{files}mask/{masks.latest_number(order.id) or 0}?size={VIEW_SIZE}&alpha=1",
        error=error, note=note, point=point, max_note=qa.MAX_NOTE,
    ), status


@bp.post("/qa/<ticket>/pass")
def qa_pass(ticket: str) -> Response:
    require_senior()
    try:
        order = qa.pass_check(current_user, ticket)
    except ServiceError as exc:
        return back(exc, "dashboard.qa_list")
    flash(f"Passed {order.ticket[:8]}: it is rendering and will be delivered.")
    return redirect(url_for("dashboard.qa_list"))


@bp.post("/qa/<ticket>/send-back")
def qa_send_back(ticket: str):
    require_senior()
    note = request.form.get("note", "")
    x, y = forms.pixel(request.form.get("x")), forms.pixel(request.form.get("y"))
    try:
        order = qa.send_back(current_user, ticket, note, x, y)
    except ServiceError as exc:
        db.session.rollback()
        # The page again, with the note as typed and the error: nothing was changed.
        return _check_page(ticket, error=exc.message, note=note,
                           point=(x, y) if x is not None and y is not None else None, status=400)
    flash(f"Sent {order.ticket[:8]} back to {order.claimed_by.name} with your note.")
    return redirect(url_for("dashboard.qa_list"))
