"""GET /metrics: the Prometheus scrape of this web machine.

Recorded metrics come from every process writing to PROMETHEUS_MULTIPROC_DIR (gunicorn's workers, and
RQ workers on this machine); orders and queues are read now from the database and Redis, each within
a deadline, so a scrape answers even when one of them is down (clip_scrape_part_up says which).
With METRICS_TOKEN set the scrape needs `Authorization: Bearer <token>`. Not rate limited (create_app
exempts this blueprint), as a scraper that gets 429 sees a gap, not a slower system.
"""
from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client.core import Metric

from infrastructure import health, metrics, queues
from infrastructure.extensions import db
from orders import monitoring

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape() -> Response:
    token = current_app.config["METRICS_TOKEN"]
    if token and not metrics.token_matches(request.headers.get("Authorization"), token):
        return Response("a bearer token is required\n", 401, {"WWW-Authenticate": "Bearer"},
                        mimetype="text/plain")
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    redis_url = app.config["REDIS_URL"]
    body = metrics.exposition([
        metrics.Part("database", str(db.engine.url), lambda: _orders(app)),
        metrics.Part("redis", redis_url, lambda: _queues(redis_url)),
    ])
    return Response(body, 200, {"Cache-Control": "no-store"}, content_type=metrics.CONTENT_TYPE)


def _orders(app: Flask) -> list[Metric]:
    with app.app_context():  # the read runs in a thread of its own, with its own session
        counts = monitoring.order_counts()
    return metrics.order_families(counts.by_status, counts.at_risk)


def _queues(redis_url: str) -> list[Metric]:
    depths, ages = queues.backlog(health.probe_client(redis_url, metrics.PART_DEADLINE_SECONDS))
    return metrics.queue_families(depths, ages)
