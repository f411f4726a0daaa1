"""Headers every response carries, whichever part answers (Flask, SOAP beside it, static files)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

# Browsers must take our Content-Type as it is: a customer's file or an API answer is never
# sniffed into HTML or script.
ALWAYS = [("X-Content-Type-Options", "nosniff")]


def with_security_headers(app: WsgiApp) -> WsgiApp:
    def wrapped(environ: dict, start_response: Callable) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers = headers + [(n, v) for n, v in ALWAYS if n.lower() not in present]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return app(environ, start)

    return wrapped
