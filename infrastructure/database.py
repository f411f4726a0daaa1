"""How the database connection behaves while PostgreSQL restarts.

Two halves: the pool pings a pooled connection before handing it out
(pool_pre_ping, set in app.py), so connections the restart killed are replaced;
and a new connection the server refuses is tried again for a few seconds,
because `pg_ctl restart -m fast` or a managed failover leaves the port closed
for about a second and a request arriving then should wait, not fail.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

# About 3 s in all before a connection failure reaches the request (HTTP 500) or the job (fault retry).
CONNECT_RETRY_DELAYS = (0.1, 0.2, 0.4, 0.8, 1.5)


def ride_out_restarts(engine: Engine) -> None:
    """Retry refused connections on `engine` (a SQLite file has no server to restart)."""
    if engine.dialect.name == "sqlite":
        return

    @event.listens_for(engine, "do_connect")
    def connect(dialect: Any, _record: Any, cargs: tuple, cparams: dict) -> Any:
        dbapi = dialect.loaded_dbapi
        for delay in CONNECT_RETRY_DELAYS:
            try:
                return dbapi.connect(*cargs, **cparams)
            except dbapi.OperationalError as exc:
                log.warning("database refused a connection (%s); trying again in %.1f s", str(exc).strip()[:200],
                            delay)
                time.sleep(delay)
        return dbapi.connect(*cargs, **cparams)
