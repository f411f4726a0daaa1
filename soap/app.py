"""The SOAP API as a WSGI application, mounted beside Flask at /SOAP.svc (by soap.mount).

Spyne runs outside Flask's request handling, so each operation gets a Flask
application context here (database session, config, current_app) exactly as a
REST view has one, and the session is removed after the call.
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

import spyne.const
from flask import Flask
from spyne import Application
from spyne.server.wsgi import WsgiApplication

from infrastructure import log_context, ratelimit
from infrastructure.extensions import db
from orders.errors import ServiceError
from soap import NAMESPACE, PATH
from soap.operations import OrdersService
from soap.protocol import HardenedSoap11

log = logging.getLogger(__name__)

# Spyne runs a full gc.collect() at most once a second, after a request, to close
# the files of file-upload types. These operations open no files, and the pause
# (tens of ms in a loaded worker) lands on every call waiting in that worker.
spyne.const.MIN_GC_INTERVAL = float("inf")

SERVICE_NAME = "ClippingOrders"

# Answered when spyne itself raises something other than a Fault, so a client
# always gets a SOAP fault and never the server's HTML error page.
_SERVER_FAULT = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soap11env:Envelope xmlns:soap11env="http://schemas.xmlsoap.org/soap/envelope/"><soap11env:Body>'
    b"<soap11env:Fault><faultcode>soap11env:Server</faultcode><faultstring>Internal Error</faultstring>"
    b"</soap11env:Fault></soap11env:Body></soap11env:Envelope>"
)
# Answered before the envelope is read, so not as an operation's answer (rateLimited) but as a fault.
_RATE_LIMITED_FAULT = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soap11env:Envelope xmlns:soap11env="http://schemas.xmlsoap.org/soap/envelope/"><soap11env:Body>'
    b"<soap11env:Fault><faultcode>soap11env:Client.RateLimited</faultcode><faultstring>%s</faultstring>"
    b"</soap11env:Fault></soap11env:Body></soap11env:Envelope>"
)


class FlaskBoundApplication(Application):
    """Runs every operation inside the Flask app's context; a ServiceError becomes the operation's answer."""

    def __init__(self, flask_app: Flask) -> None:
        super().__init__(
            [OrdersService],
            tns=NAMESPACE,
            name=SERVICE_NAME,
            # lxml validation refuses envelopes that do not match the WSDL's schema.
            in_protocol=HardenedSoap11(validator="lxml"),
            out_protocol=HardenedSoap11(),
        )
        self.flask_app = flask_app

    def call_wrapper(self, ctx: Any) -> Any:
        with self.flask_app.app_context(), log_context.bound(ticket=_ticket_of(ctx)):
            try:
                return super().call_wrapper(ctx)
            except ServiceError as exc:
                if isinstance(exc, ratelimit.RateLimited):
                    ctx.transport.resp_headers["Retry-After"] = str(exc.retry_after)
                # Every operation answers (ErrorCode, Message, payload); see soap.operations.
                return exc.code.value, exc.message, None
            finally:
                db.session.remove()


def _ticket_of(ctx: Any) -> str | None:
    """The ImageTicket an operation names (GetImageStatus, CancelImage, RejectProcessedImage), for its log lines."""
    ticket = getattr(ctx.in_object, "ImageTicket", None)  # spyne names the fields as the WSDL does
    return ticket if isinstance(ticket, str) and ticket.strip() else None


class OrdersWsgiApplication(WsgiApplication):
    def __init__(self, flask_app: Flask) -> None:
        # Spyne refuses a longer body from its Content-Length before reading any
        # of it, and never reads more than this from a body without one.
        super().__init__(FlaskBoundApplication(flask_app), max_content_length=flask_app.config["MAX_REQUEST_BYTES"])
        self.flask_app = flask_app

    def handle_wsdl_request(self, req_env: dict, start_response: Callable, url: str) -> Iterable[bytes]:
        # The WSDL's address comes from PUBLIC_BASE_URL, never from the Host
        # header: spyne caches the first WSDL it builds, so one forged Host would
        # send every later client, credentials included, to another server.
        address = self.flask_app.config["PUBLIC_BASE_URL"] + PATH
        return super().handle_wsdl_request(req_env, start_response, address)

    def __call__(self, req_env: dict, start_response: Callable, wsgi_url: str | None = None) -> Iterable[bytes]:
        try:
            with self.flask_app.app_context():
                # Before spyne reads a byte: malformed and DOCTYPE envelopes count too.
                ratelimit.count_address(req_env.get("REMOTE_ADDR"))
        except ratelimit.RateLimited as exc:
            return _fault(start_response, "429 Too Many Requests", _RATE_LIMITED_FAULT % exc.message.encode(),
                          [("Retry-After", str(exc.retry_after))])
        try:
            return super().__call__(req_env, start_response, wsgi_url)
        except Exception:  # noqa: BLE001 - answered as a SOAP Server fault, never an HTML page
            log.exception("SOAP request failed outside any operation")
            return _fault(start_response, "500 Internal Server Error", _SERVER_FAULT, exc_info=sys.exc_info())


def _fault(start_response: Callable, status: str, body: bytes, extra: list[tuple[str, str]] | None = None,
           exc_info: Any = None) -> list[bytes]:
    headers = [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body))), *(extra or [])]
    start_response(status, headers, exc_info) if exc_info else start_response(status, headers)
    return [body]
