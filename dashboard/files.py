"""An order's images for the dashboard: scaled copies (cached in the store) or full size."""
from __future__ import annotations

from flask import Response, abort, request

from dashboard import bp
from infrastructure import stored_files
from orders import previews

# Stored files never change, so a browser may keep a copy; "private": only the operator's own browser.
MAX_AGE = 24 * 3600


@bp.get("/files/<ticket>/<kind>")
@bp.get("/files/<ticket>/<kind>/<int:version>")
def order_image(ticket: str, kind: str, version: int | None = None) -> Response:
    try:
        chosen = previews.Kind(kind)
    except ValueError:
        abort(404)
    if (chosen is previews.Kind.MASK) != (version is not None):
        abort(404)  # a mask needs its version number, nothing else takes one
    relpath = previews.order_file(ticket, chosen, version)
    copy = previews.scaled_copy(relpath, request.args.get("size", 0, type=int),
                               alpha=chosen is previews.Kind.MASK and request.args.get("alpha") == "1")
    response = stored_files.stream(copy.key, copy.mimetype, max_age=MAX_AGE)
    if response is None:
        abort(404)
    response.cache_control.private = True
    return response
