"""Flask extensions, created unbound here and bound to an app in create_app."""
from __future__ import annotations

import hashlib

from flask import current_app, request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# expire_on_commit=False: what a service function returns stays readable after its
# commit, and no refresh query follows every commit. orders.lifecycle expires a
# loaded order itself when it changes the row behind the ORM's back.
db = SQLAlchemy(metadata=MetaData(naming_convention=_NAMING), session_options={"expire_on_commit": False})
migrate = Migrate()
# The dashboard's sign-in and CSRF guard (orders/dashboard sets them up).
login_manager = LoginManager()
csrf = CSRFProtect()


# The protocol that knows where a request carries its API key registers a reader under
# this name in app.extensions (the REST API does), so this layer never imports it.
API_KEY_READER = "api_key_reader"


def _rate_limit_key() -> str:
    """Limit per API key; callers without one share a bucket per address.

    The key is hashed so raw API keys never land in Redis.
    """
    reader = current_app.extensions.get(API_KEY_READER)
    return rate_limit_key(reader() if reader else None, request.remote_addr)


def rate_limit_key(api_key: str | None, remote_addr: str | None) -> str:
    """The limiter's bucket name; SOAP uses it too, so both protocols share one bucket per key."""
    if api_key:
        return "key:" + hashlib.sha256(api_key.encode()).hexdigest()[:32]
    return "ip:" + (remote_addr or "unknown")


limiter = Limiter(key_func=_rate_limit_key)

# One bucket per API key for every API call, REST or SOAP: RATE_LIMIT is per key, not per operation.
API_RATE_SCOPE = "api"
