"""The Flask app over real HTTP: werkzeug's threaded server on 127.0.0.1, a random port, a background thread.

For clients that need a socket (SOAP libraries, a real browser). The app is
the test's own app object, so the test reads and writes the same database.
"""
from __future__ import annotations

import threading

from werkzeug.serving import make_server


class LiveServer:
    def __init__(self, app) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()
