"""Health checks for load balancers: GET /healthz (the process answers) and GET /readyz (its
database and Redis answer too, each within a second).

Neither needs a key or a session, neither is rate limited (create_app exempts
this blueprint from the limiter), and neither starts any work: /healthz touches
nothing at all, /readyz runs one SELECT 1 and one PING.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from infrastructure import health
from infrastructure.extensions import db
from infrastructure.redis_connection import redis_url

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return _answer({"status": "ok"}, 200)


@bp.get("/readyz")
def readyz() -> Response:
    failing = health.failing_parts(db.engine, redis_url(current_app))
    if failing:
        return _answer({"status": "unavailable", "failing": failing}, 503)
    return _answer({"status": "ok"}, 200)


def _answer(body: dict, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    # A cached "ok" would keep a load balancer sending traffic to a machine that lost its database.
    response.headers["Cache-Control"] = "no-store"
    return response
