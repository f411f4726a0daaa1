"""Loopback ports for the servers tests start (and for URLs where nothing must listen)."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now: bound, read, let go."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
