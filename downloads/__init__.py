"""Customers' file downloads at FINALIMAGEURL: unguessable token, right type, ETag and ranges.

FINAL_URL_MODE=stream (default) sends the bytes through this app from whichever store
holds them; redirect answers with a short-lived presigned URL of the object store,
so large finals never pass through a web process (a local folder has none: streamed).
"""
from __future__ import annotations

import mimetypes

from flask import Blueprint, abort, current_app, redirect
from flask.typing import ResponseReturnValue

from infrastructure import storage, stored_files
from orders import finals

bp = Blueprint("delivery", __name__)


@bp.get("/files/<token>/<name>")
def final_file(token: str, name: str) -> ResponseReturnValue:
    relpath = finals.final_relpath(token, name)
    if relpath is None:
        abort(404)
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if current_app.config["FINAL_URL_MODE"] == "redirect":
        seconds = current_app.config["FINAL_URL_SECONDS"]
        url = storage.current().presigned_url(relpath, seconds, name, mimetype) if storage.exists(relpath) else None
        if url:
            response = redirect(url, 302)
            response.cache_control.private = True
            response.cache_control.max_age = max(0, seconds - 60)  # a cached redirect must not outlive its URL
            return response
    response = stored_files.stream(relpath, mimetype, max_age=3600, download_name=name)
    if response is None:
        abort(410)  # past FINAL_RETENTION_DAYS
    response.cache_control.public = True
    # A final is shown inline on this origin, the dashboard's: an SVG clipping path must not run
    # script or load anything here.
    response.headers["Content-Security-Policy"] = FILES_POLICY
    return response


FILES_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
