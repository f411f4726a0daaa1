"""REST endpoints of the Remove The Background developer API (XML, or JSON on request).

Each view parses, calls orders.intake, and serializes; nothing else.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from infrastructure import ratelimit
from infrastructure.extensions import db
from orders import billing, cancellation, intake, listing, redo
from orders.codes import ErrorCode
from orders.errors import ServiceError
from orders.models import Template
from rest.formats import client_prefers_csv, envelope, iso_utc, request_param, request_params, respond

log = logging.getLogger(__name__)

bp = Blueprint("rest", __name__, url_prefix="/REST.svc")


@bp.before_request
def _count_call() -> None:
    # A body is counted per address before it is read, so one that breaks the parser counts too.
    # A call without one (GET Status, the most frequent) is counted once, at sign-in: per account,
    # or as a failed sign-in per address and e-mail. One Redis round trip fewer on every poll.
    ratelimit.count_address(request.remote_addr, has_body=request.method in ("POST", "PUT", "PATCH", "DELETE"))


def counted_elsewhere() -> bool:
    """True for API calls, which infrastructure.ratelimit counts (Flask-Limiter's request filter)."""
    return request.blueprint == bp.name


PREFIX = "/REST.svc"
ROOTS = {
    "rest.templates": "TEMPLATESRESPONSE",
    "rest.add_image": "ADDIMAGERESPONSE",
    "rest.image_status": "IMAGESTATUSRESPONSE",
    "rest.images": "IMAGESLISTRESPONSE",
    "rest.cancel_image": "CANCELIMAGERESPONSE",
    "rest.reject_image": "REJECTIMAGERESPONSE",
    "rest.account": "ACCOUNTRESPONSE",
    "rest.statement": "STATEMENTRESPONSE",
}
FALLBACK_ROOT = "ERRORRESPONSE"


@bp.get("/Templates/", strict_slashes=False)
def templates() -> Response:
    found = intake.list_templates(request_param("ContactEmail"), request_param("ContactAPIkey"))
    return respond(ROOTS["rest.templates"], envelope(ErrorCode.NO_ERROR, TEMPLATES=[_template(t) for t in found]))


@bp.post("/Image/", strict_slashes=False)
def add_image() -> Response:
    params = request_params()
    order = intake.add_image(
        intake.AddImageRequest(
            contact_email=params.get("contactemail", ""),
            contact_api_key=params.get("contactapikey", ""),
            developer_api_key=params.get("developerapikey", ""),
            template_id=params.get("templateid", ""),
            image_url=params.get("imageurl", ""),
            image_url2=params.get("imageurl2", ""),
            requested_hours=params.get("imagerequesteddeliverytimeinhours", ""),
            callback_url=params.get("imagecallbackurl", ""),
            idempotency_key=params.get("idempotencykey") or request.headers.get("Idempotency-Key", ""),
            customer_image_id=params.get("customerimageid", ""),
            product_id=params.get("productid", ""),
            instructions=params.get("instructions", ""),
            test=params.get("test", ""),
        )
    )
    return respond(ROOTS["rest.add_image"], envelope(ErrorCode.NO_ERROR, IMAGETICKET=order.ticket))


@bp.get("/Image/Status/<ticket>/", strict_slashes=False)
def image_status(ticket: str) -> Response:
    status = intake.image_status(request_param("ContactEmail"), request_param("ContactAPIkey"), ticket)
    return respond(
        ROOTS["rest.image_status"],
        envelope(
            ErrorCode.NO_ERROR,
            status.message,
            IMAGESTATUS={
                "FINALIMAGEURL": status.final_image_url,
                "IMAGETICKET": status.ticket,
                "STATUSID": int(status.status),
                "STATUSNAME": status.status.wire_name,
                "CUSTOMERIMAGEID": status.customer_image_id,
            },
        ),
    )


@bp.get("/Images/", strict_slashes=False)
def images() -> Response:
    page = listing.list_images(request_param("ContactEmail"), request_param("ContactAPIkey"), listing.ImagesQuery(
        status_ids=request_param("StatusId"),
        created_from=request_param("From"),
        created_to=request_param("To"),
        customer_image_id=request_param("CustomerImageId"),
        page=request_param("Page"),
        per_page=request_param("PerPage"),
    ))
    return respond(ROOTS["rest.images"], envelope(
        ErrorCode.NO_ERROR, TOTAL=page.total, PAGE=page.number, PERPAGE=page.per_page,
        IMAGES=[_image(item) for item in page.items]))


def _image(item: listing.ImageSummary) -> dict:
    return {
        "IMAGETICKET": item.ticket,
        "CUSTOMERIMAGEID": item.customer_image_id,
        "STATUSID": int(item.status),
        "STATUSNAME": item.status.wire_name,
        "CREATED": iso_utc(item.created_at),
        "DUE": iso_utc(item.due_at),
        "FINALIMAGEURL": item.final_image_url,
    }


@bp.delete("/Image/<ticket>/", strict_slashes=False)
@bp.post("/Image/<ticket>/Cancel/", strict_slashes=False)
def cancel_image(ticket: str) -> Response:
    status = cancellation.cancel(request_param("ContactEmail"), request_param("ContactAPIkey"), ticket)
    return respond(ROOTS["rest.cancel_image"], envelope(
        ErrorCode.NO_ERROR, IMAGETICKET=ticket.strip().lower(), STATUSID=int(status), STATUSNAME=status.wire_name))


@bp.post("/Image/<ticket>/Reject/", strict_slashes=False)
def reject_image(ticket: str) -> Response:
    params = request_params()
    accepted = redo.request_redo(params.get("contactemail", ""), params.get("contactapikey", ""), ticket,
                                 params.get("comment", ""), params.get("markupimageurl", ""))
    return respond(ROOTS["rest.reject_image"], envelope(
        ErrorCode.NO_ERROR, IMAGETICKET=accepted.ticket, STATUSID=int(accepted.status),
        STATUSNAME=accepted.status.wire_name, REDONUMBER=accepted.number, MARKUP=accepted.markup.value))


@bp.get("/Account/", strict_slashes=False)
def account() -> Response:
    summary = billing.account(request_param("ContactEmail"), request_param("ContactAPIkey"))
    counts = [{"STATUSID": int(s), "STATUSNAME": s.wire_name, "COUNT": n} for s, n in summary.orders_by_status.items()]
    fields = envelope(ErrorCode.NO_ERROR, EMAIL=summary.email, MONTH=str(summary.month), ORDERS=counts,
                      AMOUNTSDUE=[_money(m) for m in summary.amounts_due])
    if summary.commissions is not None:
        fields["COMMISSIONS"] = [_money(m) for m in summary.commissions]
    return respond(ROOTS["rest.account"], fields)


@bp.get("/Statement/<month>/", strict_slashes=False)
def statement(month: str) -> Response:
    found = billing.statement(request_param("ContactEmail"), request_param("ContactAPIkey"), month)
    if client_prefers_csv():
        response = Response(billing.statement_csv(found), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="statement-{found.month}.csv"'
        return response
    fields = envelope(ErrorCode.NO_ERROR, EMAIL=found.email, MONTH=str(found.month),
                      LINES=[_line(line) for line in found.lines], TOTALS=[_money(m) for m in found.totals])
    if found.commission_lines is not None:
        fields["COMMISSIONLINES"] = [_line(line) for line in found.commission_lines]
        fields["COMMISSIONTOTALS"] = [_money(m) for m in found.commission_totals or []]
    return respond(ROOTS["rest.statement"], fields)


def _line(line: billing.StatementLine) -> dict:
    return {"IMAGETICKET": line.ticket, "CUSTOMERIMAGEID": line.customer_image_id,
            "DELIVERED": iso_utc(line.delivered_at), "TEMPLATEID": line.template_id,
            "AMOUNT": f"{line.amount:.2f}", "CURRENCYID": line.currency_id}


def _money(money: billing.Money) -> dict:
    return {"AMOUNT": f"{money.amount:.2f}", "CURRENCYID": money.currency_id}


def _template(t: Template) -> dict:
    return {
        "PRICE": {"AMOUNT": f"{t.price_amount:.2f}", "CURRENCYID": t.currency_id},
        "TEMPLATEID": t.id,
        "TEMPLATENAME": t.name,
    }


# --- errors: always the API's envelope, never an HTML page ------------------------------


def error_response(code: ErrorCode, message: str) -> Response:
    root = ROOTS.get(request.endpoint or "", FALLBACK_ROOT)
    return respond(root, envelope(code, message), status=code.http_status)


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    db.session.rollback()
    response = error_response(exc.code, exc.message)
    if isinstance(exc, ratelimit.RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


_HTTP_CODES = {
    404: (ErrorCode.NOT_FOUND, "no such API path"),
    405: (ErrorCode.METHOD_NOT_ALLOWED, "this path does not take that HTTP method"),
    413: (ErrorCode.REQUEST_TOO_LARGE, "the request body is larger than the limit"),
    415: (ErrorCode.UNSUPPORTED_MEDIA_TYPE, "unsupported request body"),
}


# The two app-wide handlers below are registered by create_app, on the app rather than the
# blueprint, because 404 and 405 happen before any blueprint is chosen.


def http_error(exc: HTTPException) -> Response | HTTPException:
    """HTTP errors on API paths answer in the API's envelope; elsewhere Flask's own page."""
    if not request.path.startswith(PREFIX):
        return exc
    if exc.code == 413:
        limit = current_app.config["MAX_REQUEST_BYTES"]
        return error_response(ErrorCode.REQUEST_TOO_LARGE, f"the request body is larger than {limit} bytes")
    code, message = _HTTP_CODES.get(exc.code or 500, (ErrorCode.INTERNAL_ERROR, "internal error"))
    return error_response(code, message)


def unexpected_error(exc: Exception) -> Response:
    """A bug: logged with its traceback, the transaction rolled back, and a plain answer without details."""
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    if not request.path.startswith(PREFIX):
        return Response("Internal server error", status=500, mimetype="text/plain")
    return error_response(ErrorCode.INTERNAL_ERROR, "internal error; nothing was saved, please retry")
