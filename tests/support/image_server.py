"""A real HTTP server on 127.0.0.1 for the fetcher tests.

Tests register routes at runtime (``serve_bytes``, ``redirect``, ``serve_slowly``...)
and read back what the server saw in ``requests``. Every response closes its
connection, so a test never depends on keep-alive behaviour.
"""
from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """What a route answers. ``delay`` sleeps before the status line, ``stall``
    after the headers; ``chunked`` sends the body in chunks of ``chunk_size``
    with ``interval`` seconds between them and no Content-Length. Without
    ``chunked``, a non-zero ``interval`` sends the body (Content-Length
    declared) in pieces of ``chunk_size`` with that pause between them.
    ``header_interval`` sends the status line and headers one byte at a time
    with that pause between bytes."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    stall: float = 0.0
    chunked: bool = False
    chunk_size: int = 8192
    interval: float = 0.0
    header_interval: float = 0.0


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased


class ImageServer:
    """``tls=(certfile, keyfile)`` serves https instead of http."""

    def __init__(self, tls: tuple[str, str] | None = None) -> None:
        self.scheme = "https" if tls else "http"
        self.requests: list[SeenRequest] = []
        self._routes: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        if tls:
            self._httpd.socket = _tls_context(*tls).wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that are sleeping on purpose
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def add(self, path: str, reply: Reply) -> str:
        with self._lock:
            self._routes[path] = reply
        return self.url(path)

    def serve_bytes(self, path: str, body: bytes, content_type: str = "application/octet-stream") -> str:
        return self.add(path, Reply(body=body, content_type=content_type))

    def serve_chunked(self, path: str, body: bytes, *, chunk_size: int = 8192, interval: float = 0.0) -> str:
        return self.add(path, Reply(body=body, chunked=True, chunk_size=chunk_size, interval=interval))

    def serve_dripping(self, path: str, body: bytes, *, interval: float, headers_too: bool = False) -> str:
        """The body one byte every ``interval`` seconds, Content-Length declared; with
        ``headers_too`` the status line and headers come a byte at a time as well."""
        return self.add(path, Reply(body=body, chunk_size=1, interval=interval,
                                    header_interval=interval if headers_too else 0.0))

    def redirect(self, path: str, location: str, status: int = 302, headers: dict[str, str] | None = None) -> str:
        return self.add(path, Reply(status=status, headers={"Location": location, **(headers or {})}))

    def serve_slowly(self, path: str, delay: float, body: bytes = b"") -> str:
        return self.add(path, Reply(body=body, delay=delay))

    def serve_status(self, path: str, status: int, body: bytes = b"") -> str:
        return self.add(path, Reply(status=status, body=body, content_type="text/plain"))

    def seen(self, path: str) -> list[SeenRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def _record(self, request: SeenRequest) -> Reply | None:
        with self._lock:
            self.requests.append(request)
            return self._routes.get(request.path)

    def _sleep(self, seconds: float) -> None:
        if seconds:
            self._stopping.wait(seconds)


def _tls_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    return context


def _handler_for(server: ImageServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # needed for chunked transfer encoding

        def do_GET(self) -> None:
            seen = SeenRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            reply = server._record(seen) or Reply(status=404, body=b"no such route", content_type="text/plain")
            self.close_connection = True
            try:
                self._answer(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first, which is what several tests want

        def _answer(self, reply: Reply) -> None:
            self._header_interval = reply.header_interval
            server._sleep(reply.delay)
            self.send_response(reply.status)
            headers = {"Content-Type": reply.content_type, "Connection": "close", **reply.headers}
            if reply.chunked:
                headers["Transfer-Encoding"] = "chunked"
            else:
                headers.setdefault("Content-Length", str(len(reply.body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            server._sleep(reply.stall)
            if reply.chunked:
                self._send_chunks(reply)
            elif reply.interval:
                self._send_pieces(reply)
            else:
                self.wfile.write(reply.body)

        def flush_headers(self) -> None:
            if not getattr(self, "_header_interval", 0.0):
                super().flush_headers()
                return
            head = b"".join(getattr(self, "_headers_buffer", []))
            self._headers_buffer = []
            for index in range(len(head)):
                if server._stopping.is_set():
                    return
                self.wfile.write(head[index : index + 1])
                server._sleep(self._header_interval)

        def _send_pieces(self, reply: Reply) -> None:
            for start in range(0, len(reply.body), reply.chunk_size):
                if server._stopping.is_set():
                    return
                self.wfile.write(reply.body[start : start + reply.chunk_size])
                server._sleep(reply.interval)

        def _send_chunks(self, reply: Reply) -> None:
            for start in range(0, len(reply.body), reply.chunk_size):
                chunk = reply.body[start : start + reply.chunk_size]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                server._sleep(reply.interval)
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    return Handler
