"""Customers' file downloads at FINALIMAGEURL: unguessable token, right type, ETag and ranges."""
from __future__ import annotations

import mimetypes

from flask import Blueprint, abort, send_file
from flask.typing import ResponseReturnValue

from infrastructure import storage
from orders import finals

bp = Blueprint("delivery", __name__)


@bp.get("/files/<token>/<name>")
def final_file(token: str, name: str) -> ResponseReturnValue:
    relpath = finals.final_relpath(token, name)
    if relpath is None:
        abort(404)
    path = storage.absolute(relpath)
    if not path.exists():
        abort(410)  # past FINAL_RETENTION_DAYS
    response = send_file(path, mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream",
                         as_attachment=False, download_name=name, conditional=True, etag=True, max_age=3600)
    # A final is shown inline on this origin, the dashboard's: an SVG clipping path must not run
    # script or load anything here.
    response.headers["Content-Security-Policy"] = FILES_POLICY
    return response


FILES_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
