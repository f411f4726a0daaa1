"""gunicorn's logger with API keys taken out (gunicorn.conf.py names it as ``logger_class``).

A GET call carries ContactAPIkey (and maybe developerAPIkey) in its query
string, and gunicorn's access log writes the request line as it came. Every
value the access-log format can name (the request line, the query string, the
Referer, any header or environ atom) has those parameters' values replaced by
``***``, and so has every message of gunicorn's error log ("Error handling
request /…?…"). Names match as the API matches them: case-insensitively, and
after percent-decoding, so no spelling the API accepts slips past.
"""
from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

SECRET_PARAMETERS = frozenset({"contactapikey", "developerapikey"})
MASK = "***"

# name=value after "?" or "&" (or at the start, as in a bare query string). werkzeug splits on "&" only,
# so a value runs to the next "&" (or the space ending a request line): stopping at ";" or a quote would
# leave the rest of the key in the log.
_PARAMETER = re.compile(r"(?:(?<=[?&])|^)([^=&?\s]+)=([^&\s]*)")


def redact(text: str) -> str:
    """``text`` with the value of every API-key parameter in it replaced by ***."""
    if "=" not in text:
        return text
    return _PARAMETER.sub(_mask_secret, text)


def _mask_secret(match: re.Match[str]) -> str:
    name = match.group(1)
    if unquote_plus(name).strip().lower() in SECRET_PARAMETERS:
        return f"{name}={MASK}"
    return match.group(0)


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


class RedactingLogger(Logger):
    """gunicorn's own Logger, but no API key reaches the access or the error log."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # setup() runs again on every configuration reload (SIGHUP): one filter is enough.
        if not any(isinstance(f, _RedactingFilter) for f in self.error_log.filters):
            self.error_log.addFilter(_RedactingFilter())

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: redact(value) if isinstance(value, str) else value for name, value in atoms.items()}
