"""The developer API over SOAP 1.1 (spyne), at /SOAP.svc with its WSDL at /SOAP.svc?wsdl.

The same three operations as REST, calling the same orders.intake functions:
this package only translates between SOAP and those calls.

Importing this package does not import spyne: every process that creates the app (workers,
`flask segment`) would pay ~0.1 s for it at start. A web process loads it with its first SOAP
request (see mount).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

PATH = "/SOAP.svc"
# Published in the WSDL; clients bind to it, so it changes only with a new API version.
NAMESPACE = "urn:clipping-orders:soap:v1"

__all__ = ["NAMESPACE", "PATH", "mount"]


def mount(app: Flask) -> None:
    """Serve the SOAP API at /SOAP.svc (WSDL at /SOAP.svc?wsdl) beside the Flask app."""
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {PATH: _OnFirstRequest(app)})  # type: ignore[method-assign]


class _OnFirstRequest:
    """The spyne application, built by the first request that reaches it (once, under a lock)."""

    def __init__(self, app: Flask) -> None:
        self._flask_app = app
        self._lock = threading.Lock()
        self._wsgi: Callable[..., Iterable[bytes]] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if self._wsgi is None:
            with self._lock:
                if self._wsgi is None:
                    from soap.app import OrdersWsgiApplication

                    self._wsgi = OrdersWsgiApplication(self._flask_app)
        return self._wsgi(environ, start_response)
