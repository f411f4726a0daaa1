"""Flask extensions, created unbound here and bound to an app in create_app."""
from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_login import LoginManager
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
# The dashboard's sign-in and CSRF guard (orders/dashboard sets them up).
login_manager = LoginManager()
csrf = CSRFProtect()


def _rate_limit_key() -> str:
    """The dashboard's limits (sign-in) count per client address; the API counts in infrastructure.ratelimit."""
    return "ip:" + (request.remote_addr or "unknown")


limiter = Limiter(key_func=_rate_limit_key)
