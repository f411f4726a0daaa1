"""JSON endpoints the dashboard's scripts call. Every POST carries the CSRF token in X-CSRFToken."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for
from flask_login import current_user

from dashboard import forms
from dashboard.formatting import iso_utc
from infrastructure.extensions import csrf
from masktools.cleanup import Cleanup
from masktools.strokes import Stroke
from orders import cleanup_settings, lookups, mask_tools, qa, review
from orders.checks import finite_number
from orders.models import Order

bp = Blueprint("api", __name__, url_prefix="/api")

# A full-resolution mask of a 25 MP image as an RGBA PNG; the app-wide limit
# (MAX_REQUEST_BYTES, 256 KiB) is for API bodies and stays as it is elsewhere.
MAX_MASK_BYTES = 64 * 1024 * 1024

# Strokes of the refine and matte tools: enough for any hand-drawn correction, small enough to
# stay under the API's body limit and a second or two of work.
MAX_STROKES = 50
MAX_POINTS = 5000
MAX_RADIUS = 200
MAX_MATTE_RADIUS = 100


@bp.get("/queue/count")
def queue_count() -> Response:
    return jsonify(count=review.queue_count(forms.queue_filter(request.args)))


@bp.post("/claim-next")
def claim_next() -> Response:
    """Claim the next order; with `release`, give that one back (the operator skips it)."""
    body = _body()
    order = review.skip(current_user, body.get("release"), forms.queue_filter(body))
    return jsonify(ticket=order.ticket if order else None, url=_review_url(order))


@bp.post("/orders/<ticket>/renew")
def renew(ticket: str) -> Response:
    return jsonify(lease_expires_at=iso_utc(review.renew_lease(current_user, ticket)))


@bp.post("/orders/<ticket>/release")
def release(ticket: str) -> Response:
    review.release(current_user, ticket)
    return jsonify(released=ticket)


@bp.post("/qa/<ticket>/renew")
def qa_renew(ticket: str) -> Response:
    return jsonify(lease_expires_at=iso_utc(qa.renew(current_user, ticket)))


@bp.post("/qa/<ticket>/release")
def qa_release(ticket: str) -> Response:
    qa.release(current_user, ticket)
    return jsonify(released=ticket)


@bp.post("/orders/<ticket>/mask")
@csrf.exempt  # checked below, once the larger body limit is in place
def save_mask(ticket: str) -> Response:
    # The CSRF check reads the body; under the app-wide limit a full-size mask
    # would be refused before this view could raise the limit.
    request.max_content_length = MAX_MASK_BYTES
    csrf.protect()
    version = review.save_mask(current_user, ticket, request.get_data(cache=False))
    return jsonify(version=version.number)


@bp.post("/orders/<ticket>/region")
def region(ticket: str) -> Response:
    box = _body().get("box")
    if not isinstance(box, list) or len(box) != 4 or not all(finite_number(v) for v in box):
        return _bad("box must be [x0, y0, x1, y1] in image pixels")
    return jsonify(job=review.request_region(current_user, ticket, tuple(int(v) for v in box)))


@bp.get("/orders/<ticket>/versions")
def versions(ticket: str) -> Response:
    order = lookups.order_by_ticket(ticket)
    listed = [{"number": v.number, "source": v.source, "author": v.author, "created_at": iso_utc(v.created_at)}
              for v in order.mask_versions]
    return jsonify(latest=max((v["number"] for v in listed), default=None), versions=listed)


@bp.post("/orders/<ticket>/approve")
def approve(ticket: str) -> Response:
    order = review.approve(current_user, ticket)
    return jsonify(ticket=order.ticket, status=order.status)


@bp.post("/orders/<ticket>/reject")
def reject(ticket: str) -> Response:
    body = _body()
    order = review.reject(current_user, ticket, str(body.get("reason", "")), str(body.get("note", "")))
    return jsonify(ticket=order.ticket, status=order.status)


@bp.post("/orders/<ticket>/cleanup")
def cleanup(ticket: str) -> Response:
    body = _body()
    steps = Cleanup(**cleanup_settings.checked(body))
    base = _base_version(body)
    if isinstance(base, Response):
        return base
    return jsonify(version=mask_tools.cleanup(current_user, ticket, steps, base).number)


@bp.post("/settings/cleanup")
def remember_cleanup() -> Response:
    """The operator's cleanup settings, as changed on the review page: `{"fill_holes": N, …}` → all of them."""
    return jsonify(cleanup=cleanup_settings.remember(current_user, _body()))


@bp.post("/orders/<ticket>/refine")
def refine(ticket: str) -> Response:
    body = _body()
    raw = body.get("strokes")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_STROKES:
        return _bad(f"strokes must be a list of 1 to {MAX_STROKES} strokes")
    strokes = [_stroke(s, modes=("keep", "remove")) for s in raw]
    if (bad := next((s for s in strokes if isinstance(s, Response)), None)) is not None:
        return bad
    if sum(len(s.points) for s in strokes) > MAX_POINTS:
        return _bad(f"the strokes may have {MAX_POINTS} points in all")
    base = _base_version(body)
    if isinstance(base, Response):
        return base
    return jsonify(version=mask_tools.refine(current_user, ticket, strokes, base).number)


@bp.post("/orders/<ticket>/matte")
def matte(ticket: str) -> Response:
    body = _body()
    band = _stroke({**body, "mode": "matte"}, modes=("matte",), max_radius=MAX_MATTE_RADIUS)
    if isinstance(band, Response):
        return band
    base = _base_version(body)
    if isinstance(base, Response):
        return base
    return jsonify(version=mask_tools.matte(current_user, ticket, band, base).number)


def _stroke(raw: object, *, modes: tuple[str, ...], max_radius: int = MAX_RADIUS) -> Stroke | Response:
    if not isinstance(raw, dict):
        return _bad("a stroke must be an object with mode, radius and points")
    if raw.get("mode") not in modes:
        return _bad(f"mode must be {' or '.join(repr(m) for m in modes)}")
    radius = raw.get("radius")
    if not finite_number(radius) or not 1 <= radius <= max_radius:
        return _bad(f"radius must be a number from 1 to {max_radius} (px)")
    points = raw.get("points")
    if not isinstance(points, list) or not 1 <= len(points) <= MAX_POINTS:
        return _bad(f"points must be a list of 1 to {MAX_POINTS} [x, y] pairs")
    if not all(isinstance(p, list) and len(p) == 2 and all(finite_number(v) and abs(v) <= 100_000 for v in p)
               for p in points):
        return _bad("each point must be [x, y] in image pixels")
    return Stroke(raw["mode"], round(radius), tuple((float(x), float(y)) for x, y in points))


@bp.errorhandler(mask_tools.StaleVersion)
def _stale(exc: mask_tools.StaleVersion) -> Response:
    response = jsonify(error="staleVersion", message=str(exc), latest=exc.latest)
    response.status_code = 409
    return response


def _base_version(body: dict) -> int | Response:
    base = body.get("base_version")
    if not isinstance(base, int) or isinstance(base, bool) or base < 0:
        return _bad("base_version must be the number of the mask version the edit was made on")
    return base


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _review_url(order: Order | None) -> str:
    if order is None:
        return url_for("dashboard.queue")
    return url_for("dashboard.review_page", ticket=order.ticket)


def _bad(message: str) -> Response:
    response = jsonify(error="invalidParameter", message=message)
    response.status_code = 400
    return response


