"""How log lines are written: LOG_FORMAT=text (readable) or json (one JSON object per line).

A JSON line has ``time`` (ISO 8601, UTC), ``level``, ``logger`` and ``message``;
``ticket`` and ``job_id`` where the line is about one (log_context); ``exc_info``
(the traceback) where there is one; and any ``extra`` the caller gave. Every
handler set up here takes API keys out of the message and the traceback
(redaction), whatever the format. python-json-logger does the JSON.
"""
from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from infrastructure.log_context import FIELDS, ContextFilter
from infrastructure.redaction import redact

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Flask-Migrate imports alembic in every process, which then announces each of its plugins at INFO.
QUIET = ("alembic.runtime.plugins",)


def parse_format(value: str) -> str:
    """LOG_FORMAT's parser: text or json."""
    chosen = value.strip().lower()
    if chosen not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {value!r}")
    return chosen


class RedactingFilter(logging.Filter):
    """No API key in a record's message, however it was logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class TextFormatter(logging.Formatter):
    """The readable line, with ``[ticket=… job_id=…]`` after the message when the line has them."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        line = super().formatMessage(record)
        about = " ".join(f"{name}={getattr(record, name)}" for name in FIELDS if getattr(record, name, None))
        return f"{line} [{about}]" if about else line

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    class _Json(JsonFormatter):
        def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord,
                       message_dict: dict[str, Any]) -> None:
            # time first: the field a reader (or jq) looks for first.
            log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds")
            super().add_fields(log_data, record, message_dict)

        def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
            return redact(super().formatException(ei))

    return _Json(["levelname", "name", "message"], rename_fields={"levelname": "level", "name": "logger"})


def formatter(log_format: str) -> logging.Formatter:
    return json_formatter() if log_format == "json" else TextFormatter()


def prepare(handler: logging.Handler, log_format: str | None) -> logging.Handler:
    """Give ``handler`` the context and redaction filters (once) and, unless None, the format's formatter."""
    for kind in (ContextFilter, RedactingFilter):
        if not any(isinstance(f, kind) for f in handler.filters):
            handler.addFilter(kind())
    if log_format is not None:
        handler.setFormatter(formatter(log_format))
    return handler


def configure(log_format: str, *, level: int = logging.INFO, stream: IO[str] | None = None) -> None:
    """Every logger of this process writes to ``stream`` (stderr) in ``log_format``; replaces earlier set-up."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_clip_logging", False)]:
        root.removeHandler(old)
    handler = prepare(logging.StreamHandler(stream or sys.stderr), log_format)
    handler._clip_logging = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Python's warnings (a deprecated call in a library) become log lines too, in the same format.
    logging.captureWarnings(True)
