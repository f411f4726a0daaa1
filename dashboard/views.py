"""The operator's pages: the queue, claiming, the review page and bulk approval."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from dashboard import bp, forms
from dashboard.flashing import back
from infrastructure.extensions import db
from orders import cleanup_settings, lookups, masks, previews, qa, redo, review
from orders.codes import RejectReason, Status
from orders.errors import ServiceError

QUEUE_ROWS = 50  # a screenful; "Claim next" is how work is taken, the list is for overview
BULK_DEFAULT_CONFIDENCE = 0.95
BULK_ROWS = 60


@bp.get("/")
def queue() -> str:
    filters = forms.queue_filter(request.args)
    customers, templates = review.customers_and_templates()
    return render_template(
        "dashboard/queue.html",
        orders=review.queue(filters, limit=QUEUE_ROWS),
        count=review.queue_count(filters),
        filters=filters,
        filter_args=forms.filter_args(filters),
        due_windows=forms.DUE_WINDOWS,
        due_value=request.args.get("due", "") if request.args.get("due", "") in forms.DUE_WINDOWS else "",
        customers=customers,
        templates=templates,
        row_urls=_row_urls(),
        redo_status=Status.REDO_REQUESTED,
        is_hard=qa.is_hard,
        qa_count=qa.waiting_count() if current_user.is_senior else None,  # seniors' QA tab
    )


TICKET_SLOT = "TICKET"


def _row_urls() -> dict[str, str]:
    """Per-row URLs built once with a placeholder: a hundred url_for calls were a third of the page's time."""
    return {"slot": TICKET_SLOT,
            "preview": url_for("dashboard.order_image", ticket=TICKET_SLOT, kind="preview", size=160),
            "claim": url_for("dashboard.claim", ticket=TICKET_SLOT)}


@bp.post("/claim-next")
def claim_next() -> Response:
    filters = forms.queue_filter(request.form)
    order = review.claim_next(current_user, filters)
    if order is None:
        flash("Nothing is waiting for review" + (" with these filters" if forms.filter_args(filters) else "") + ".")
        return redirect(url_for("dashboard.queue", **forms.filter_args(filters)))
    return redirect(url_for("dashboard.review_page", ticket=order.ticket))


@bp.post("/review/<ticket>/claim")
def claim(ticket: str) -> Response:
    try:
        order = review.claim(current_user, ticket)
    except ServiceError as exc:
        return back(exc, "dashboard.queue")
    return redirect(url_for("dashboard.review_page", ticket=order.ticket))


@bp.get("/review/<ticket>")
def review_page(ticket: str):
    order = lookups.order_by_ticket(ticket)
    try:
        review.held_order(current_user, ticket)
    except ServiceError as exc:
        db.session.rollback()
        return render_template("dashboard/review_unavailable.html", order=order, reason=exc.message,
                               claimable=order.status in review.QUEUED), 409
    width, height = previews.upright_size(order.mask_path)
    upcoming = review.next_in_queue_after(order.ticket)
    return render_template(
        "dashboard/review.html",
        order=order,
        width=width,
        height=height,
        mask_version=masks.latest_number(order.id) or 0,
        upcoming=upcoming,
        upcoming_mask_version=masks.latest_number(upcoming.id) or 0 if upcoming else 0,
        reasons=[(reason.value, reason.label) for reason in RejectReason],
        redo=redo.latest_request(order.id) if order.redo_count else None,
        qa_return=qa.latest_return(order),
        cleanup={"fields": cleanup_settings.ranges(), "values": cleanup_settings.of(current_user),
                 "url": url_for("dashboard.api.remember_cleanup")},
        urls={"files": _files_base(order.ticket), "api": _api_base(order.ticket),
              "next_files": _files_base(upcoming.ticket) if upcoming else ""},
    )


def _files_base(ticket: str) -> str:
    """Where an order's images are; the page script appends original?size=… or mask/<n>?size=…"""
    return url_for("dashboard.order_image", ticket=ticket, kind="original").rsplit("/", 1)[0] + "/"


def _api_base(ticket: str) -> str:
    """Where an order's JSON endpoints are; the page script appends approve, reject, mask…"""
    return url_for("dashboard.api.versions", ticket=ticket).rsplit("/", 1)[0] + "/"


@bp.get("/bulk")
def bulk() -> str:
    minimum = forms.fraction(request.args.get("min"), BULK_DEFAULT_CONFIDENCE)
    return render_template("dashboard/bulk.html", orders=review.high_confidence(minimum, limit=BULK_ROWS),
                           minimum=minimum)


@bp.post("/bulk")
def bulk_approve() -> Response:
    tickets = request.form.getlist("ticket")
    approved = review.bulk_approve(current_user, tickets)
    skipped = len(tickets) - len(approved)
    flash(f"Approved {len(approved)} order{'s' if len(approved) != 1 else ''}"
          + (f"; {skipped} skipped (taken or decided meanwhile)" if skipped else "") + ".")
    return redirect(url_for("dashboard.bulk", min=request.form.get("min", "")))
