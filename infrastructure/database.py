"""How the database connection behaves while PostgreSQL restarts.

Two halves: a pooled connection is checked before it is handed out, so connections
the restart killed are replaced; and a new connection the server refuses is tried
again for a few seconds, because `pg_ctl restart -m fast` or a managed failover
leaves the port closed for about a second and a request arriving then should wait,
not fail.

The check costs no round trip. SQLAlchemy's pool_pre_ping sends a query on every
checkout: one more round trip per request on the busiest paths. But an idle
PostgreSQL connection has nothing to say: a server that ends it (restart,
pg_terminate_backend, failover, a proxy that drops it) sends its last words and
closes the socket, which makes the socket readable. So only a connection whose
socket is readable (or that psycopg knows is broken) is pinged, and a dead one is
replaced before a request sees it.
"""
from __future__ import annotations

import logging
import select
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# About 3 s in all before a connection failure reaches the request (HTTP 500) or the job (fault retry).
CONNECT_RETRY_DELAYS = (0.1, 0.2, 0.4, 0.8, 1.5)


def ride_out_restarts(engine: Engine) -> None:
    """Retry refused connections on `engine`, and replace pooled ones the server ended
    (a SQLite file has no server to restart)."""
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

    @event.listens_for(engine, "checkout")
    def check(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if server_spoke(dbapi_connection) and not _answers(engine, dbapi_connection):
            # The pool drops this connection and hands out a new one (made by connect() above).
            raise DisconnectionError("the server ended this pooled connection")


def server_spoke(dbapi_connection: Any) -> bool:
    """Has the server sent anything on this idle connection (its end, most likely), or is it broken?"""
    if getattr(dbapi_connection, "closed", False) or getattr(dbapi_connection, "broken", False):
        return True
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except Exception:  # noqa: BLE001 - no socket to look at: let the ping decide
        return True


def _answers(engine: Engine, dbapi_connection: Any) -> bool:
    try:
        return engine.dialect.do_ping(dbapi_connection)
    except engine.dialect.loaded_dbapi.Error:
        return False


def statements_alone(session: Session) -> None:
    """Each statement `session` runs from here on commits by itself: no transaction around them,
    which spares the BEGIN and COMMIT (or ROLLBACK) round trips. For reads that need no common
    snapshot, and writes that are one statement. Call it before the session's first statement.

    PostgreSQL only, where writes_with_returning_ctes holds too, so a write its callers make in
    one statement there is never split into several that would each commit alone. Elsewhere
    (SQLite, which has no round trips to spare) the caller's commit still ends one transaction.
    """
    if _postgresql(session):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def writes_with_returning_ctes(session: Session) -> bool:
    """Can `session`'s database use what one INSERT returns in another INSERT of the same statement
    (a data-modifying WITH)? PostgreSQL can; SQLite cannot."""
    return _postgresql(session)


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
