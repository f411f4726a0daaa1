"""What a log line is about: the ticket and the RQ job id of the work in hand.

Set around each job (workers.runner) and each request that names a ticket
(init_app below, and SOAP's call wrapper), in context variables, so a line
logged anywhere underneath (the service layer, a library) carries them without
being handed them. log_format's handlers stamp every record with what is set.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from flask import Flask, g, request

_ticket: ContextVar[str | None] = ContextVar("log_ticket", default=None)
_job_id: ContextVar[str | None] = ContextVar("log_job_id", default=None)
FIELDS = ("ticket", "job_id")
LONGEST = 80  # a ticket is a caller's text: a hostile one must not fill the log


def _clip(value: str | None) -> str | None:
    return value[:LONGEST] if value is not None else None


def current() -> dict[str, str]:
    """The fields set here and now (none that are unset)."""
    found = {"ticket": _ticket.get(), "job_id": _job_id.get()}
    return {name: value for name, value in found.items() if value}


@contextmanager
def bound(*, ticket: str | None = None, job_id: str | None = None) -> Iterator[None]:
    """Log lines within the block carry this ticket and job id (a None leaves the outer one)."""
    tokens: list[tuple[ContextVar[str | None], Token[str | None]]] = []
    for var, value in ((_ticket, ticket), (_job_id, job_id)):
        if value is not None:
            tokens.append((var, var.set(_clip(value))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class ContextFilter(logging.Filter):
    """Stamps each record with the ticket and job id in context (as ``extra`` would)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


def init_app(app: Flask) -> None:
    """Every request whose URL names a ticket (REST's /Image/<ticket>/…, the dashboard's orders) logs it."""

    @app.before_request
    def _bind_ticket() -> None:
        ticket = (request.view_args or {}).get("ticket")
        if isinstance(ticket, str):
            g.log_ticket_token = _ticket.set(_clip(ticket))

    @app.teardown_request
    def _unbind_ticket(_exc: BaseException | None) -> None:
        # gunicorn's threads serve one request after another in the same context: leave nothing behind.
        token = g.pop("log_ticket_token", None)
        if token is not None:
            _ticket.reset(token)
