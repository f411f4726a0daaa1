"""Flask extensions, created unbound here and bound to an app in create_app."""
from __future__ import annotations

import hashlib

from flask import request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=_NAMING))
migrate = Migrate()


def _rate_limit_key() -> str:
    """Limit per API key; callers without one share a bucket per address.

    The key is hashed so raw API keys never land in Redis.
    """
    from orders.wire import request_param

    api_key = request_param("ContactAPIkey")
    if api_key:
        return "key:" + hashlib.sha256(api_key.encode()).hexdigest()[:32]
    return "ip:" + (request.remote_addr or "unknown")


limiter = Limiter(key_func=_rate_limit_key)
