"""HTTP answers that serve a stored file, whichever store holds it: streamed, with ETag and byte ranges."""
from __future__ import annotations

from flask import Response, request
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wsgi import wrap_file

from infrastructure import storage


def stream(key: str, mimetype: str, *, max_age: int, download_name: str | None = None) -> Response | None:
    """The file as a conditional, rangeable answer; None when the store no longer has it.

    The body is read from the store as the client takes it (a 12 MP final is never held
    in memory whole), and a Range request reads only its range.
    """
    found = storage.info(key)
    if found is None:
        return None
    response = Response(wrap_file(request.environ, storage.open_stream(key)), mimetype=mimetype,
                        direct_passthrough=True)
    response.content_length = found.size
    response.last_modified = found.modified
    response.set_etag(found.etag)
    response.cache_control.max_age = max_age
    if download_name:
        response.headers.set("Content-Disposition", "inline", filename=download_name)
    try:
        return response.make_conditional(request, accept_ranges=True, complete_length=found.size)
    except RequestedRangeNotSatisfiable:
        response.close()
        raise
