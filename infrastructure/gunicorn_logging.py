"""gunicorn's logger with API keys taken out (gunicorn.conf.py names it as ``logger_class``).

A GET call carries ContactAPIkey (and maybe developerAPIkey) in its query
string, and gunicorn's access log writes the request line as it came. Every
value the access-log format can name (the request line, the query string, the
Referer, any header or environ atom) has those parameters' values replaced by
``***``, and so has every message of gunicorn's error log ("Error handling
request /…?…"). Names match as the API matches them (infrastructure.redaction).
"""
from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from infrastructure.log_format import RedactingFilter, parse_format, prepare
from infrastructure.redaction import MASK, SECRET_PARAMETERS, redact

__all__ = ["MASK", "SECRET_PARAMETERS", "RedactingLogger", "redact"]


class RedactingLogger(Logger):
    """gunicorn's own Logger, but no API key reaches the access or the error log; with LOG_FORMAT=json
    both write JSON lines (log_format), otherwise gunicorn's own formats."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # setup() runs again on every configuration reload (SIGHUP), with new handlers: one filter each.
        if not any(isinstance(f, RedactingFilter) for f in self.error_log.filters):
            self.error_log.addFilter(RedactingFilter())
        json = parse_format(os.environ.get("LOG_FORMAT") or "text") == "json"
        for handler in [*self.error_log.handlers, *self.access_log.handlers]:
            prepare(handler, "json" if json else None)

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: redact(value) if isinstance(value, str) else value for name, value in atoms.items()}
