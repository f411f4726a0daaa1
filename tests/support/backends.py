"""Test databases and Redis: the embedded pair, and the machine's services when present.

The service run uses its own PostgreSQL schema and its own Redis database
number, and never touches anything else on those servers.
"""
from __future__ import annotations

import os
import socket
from functools import cache

from sqlalchemy import create_engine, text

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# One schema per test run, so two runs on one machine do not drop each other's tables.
PG_SCHEMA = f"clipping_orders_test_{os.getpid()}"
SERVICE_REDIS = "redis://127.0.0.1:6379"
_CLAIM = "clipping-orders-test:db:{}"  # in database 0: which test run holds which database number


@cache
def service_redis_url() -> str:
    """A Redis database number this run alone uses (of 1-15), so two runs on one machine never share
    queues: a burst worker of one would take the other's jobs. Claimed in database 0, for two hours."""
    import redis

    claims = redis.Redis.from_url(f"{SERVICE_REDIS}/0")
    for number in range(15, 0, -1):
        if claims.set(_CLAIM.format(number), os.getpid(), nx=True, ex=7200):
            return f"{SERVICE_REDIS}/{number}"
    raise RuntimeError("every Redis database 1-15 is claimed by another test run")


def release_service_redis() -> None:
    import redis

    if service_redis_url.cache_info().currsize:
        number = service_redis_url().rsplit("/", 1)[1]
        claims = redis.Redis.from_url(f"{SERVICE_REDIS}/0")
        if claims.get(_CLAIM.format(number)) == str(os.getpid()).encode():
            claims.delete(_CLAIM.format(number))


@cache
def services_available() -> bool:
    return _port_open(5432) and _port_open(6379)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def fresh_postgres_schema() -> str:
    """Drop and recreate our schema; return a URL whose search_path is that schema."""
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    engine.dispose()
    return f"{PG_ADMIN_URL}?options=-csearch_path%3D{PG_SCHEMA}"


def drop_postgres_schema() -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
    engine.dispose()


def drop_database_connections() -> int:
    """Cut every other client's connection to the test database, as a server restart does."""
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        cut = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )).scalar_one()
    engine.dispose()
    return cut


def migrate(database_url: str, redis_url: str) -> None:
    from flask_migrate import upgrade

    from app import create_app
    from infrastructure import schema

    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "test"})
    schema.bind(app)
    with app.app_context():
        upgrade(directory=str(schema.MIGRATIONS_DIR))


def reset(app, redis_url: str) -> None:
    """Empty our tables and our Redis database after a test."""
    from infrastructure.extensions import db
    from infrastructure.redis_connection import get_redis

    with app.app_context():
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.engine.dispose()
        get_redis(redis_url).flushdb()
