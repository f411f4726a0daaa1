"""Prometheus metrics: every metric object of the app, the small record functions the service layer
and the jobs call, and the exposition that /metrics and a worker's own port answer.

Two kinds of metric:

- recorded as things happen (job durations, draft inference, review time, callback attempts, fetch
  failures): counters and histograms in this process. Under gunicorn, and for workers on the same
  machine, PROMETHEUS_MULTIPROC_DIR names a folder where every process writes its values (one mmap
  file per process and metric type, prometheus_client's multiprocess mode); a scrape adds them up.
  The variable must be set before this module is first imported: prometheus_client picks the
  value store at import. scripts/run.py and gunicorn.conf.py set it.
- read at scrape time (orders by status, SLA at risk, queue depths): the caller hands exposition()
  one reader per part (the database, Redis); each runs in a thread with a deadline, so a part that
  is down or hangs costs the scrape at most the deadline and shows as clip_scrape_part_up 0 while
  the rest is still reported.
"""
from __future__ import annotations

import hmac
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import wait
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector, CollectorRegistry

from infrastructure import health
from infrastructure.metrics_folder import MULTIPROC_ENV

log = logging.getLogger(__name__)

# The classic text format every Prometheus reads (what prometheus_client's own server answers by default).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# A scrape's database and Redis reads each get this long; Prometheus's own scrape timeout is 10 s.
PART_DEADLINE_SECONDS = 2.0

# --- recorded as things happen --------------------------------------------------------------

# No *_created series: the multiprocess mode has none, so a single process should not differ; and
# they would double the series of every counter and histogram for a start time nobody graphs.
disable_created_metrics()

JOB_DURATION = Histogram(
    "clip_job_duration_seconds", "Wall time of one run of a job, by job function (a retry is another run)",
    ["kind"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600))
DRAFT_INFERENCE = Histogram(
    "clip_draft_inference_seconds", "The segmentation model's time on one order's draft mask",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32))
REVIEW_TIME = Histogram(
    "clip_review_seconds", "An operator's time on one order, from claim to approve",
    buckets=(5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600))
CALLBACK_ATTEMPTS = Counter(
    "clip_callback_attempts", "POSTs to customers' callback URLs, by outcome", ["outcome"])
FETCH_FAILURES = Counter(
    "clip_fetch_failures", "Image downloads that failed (each try; a retried one may still succeed), by reason",
    ["reason"])


def job_ran(kind: str, seconds: float) -> None:
    JOB_DURATION.labels(kind=kind).observe(seconds)


def draft_inferred(seconds: float) -> None:
    DRAFT_INFERENCE.observe(seconds)


def review_ended(seconds: float) -> None:
    REVIEW_TIME.observe(seconds)


def callback_attempted(outcome: str) -> None:
    CALLBACK_ATTEMPTS.labels(outcome=outcome).inc()


def fetch_failed(reason: str) -> None:
    FETCH_FAILURES.labels(reason=reason).inc()


# --- read at scrape time --------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One source of scrape-time metrics."""

    name: str  # its clip_scrape_part_up label: "database", "redis"
    server: str  # reads hanging on one server are capped per server (infrastructure.health)
    read: Callable[[], list[Metric]]


def order_families(by_status: Mapping[str, int], at_risk: int) -> list[Metric]:
    orders = GaugeMetricFamily("clip_orders", "Orders in each status (all orders ever placed, test orders too)",
                               labels=["status"])
    for status, count in by_status.items():
        orders.add_metric([status], count)
    risk = GaugeMetricFamily("clip_orders_sla_at_risk",
                             "Orders not yet approved by an operator that are due within the hour or overdue",
                             value=at_risk)
    return [orders, risk]


def queue_families(depths: Mapping[str, int], oldest_ages: Mapping[str, float]) -> list[Metric]:
    jobs = GaugeMetricFamily("clip_queue_jobs", "Jobs waiting in each RQ queue (not running, not scheduled)",
                             labels=["queue"])
    age = GaugeMetricFamily("clip_queue_oldest_job_age_seconds",
                            "Seconds since the job at the head of each RQ queue was enqueued; 0 when empty",
                            labels=["queue"])
    for name, depth in depths.items():
        jobs.add_metric([name], depth)
        age.add_metric([name], oldest_ages.get(name, 0.0))
    return [jobs, age]


def exposition(parts: Sequence[Part], deadline: float = PART_DEADLINE_SECONDS) -> bytes:
    """The Prometheus text of everything recorded (in this process, or in every process writing to
    PROMETHEUS_MULTIPROC_DIR) and of what `parts` read now."""
    readings = {part.name: health.start_check(f"metrics {part.server}", part.read) for part in parts}
    wait(readings.values(), timeout=deadline)
    up = GaugeMetricFamily("clip_scrape_part_up", "1 when this scrape could read the part, else 0",
                           labels=["part"])
    families: list[Metric] = [up]
    for name, reading in readings.items():
        read = reading.done() and reading.exception() is None
        up.add_metric([name], 1 if read else 0)
        if read:
            families.extend(reading.result())
        else:
            why = reading.exception() if reading.done() else f"no answer within {deadline:.0f} s"
            log.warning("metrics: %s left out of this scrape (%s)", name, why)
    return generate_latest(_Joined([_recorded(), _Fixed(families)]))


def _recorded() -> Collector:
    """Where the recorded metrics are: the shared folder when there is one (a scrape of any one process
    then sums every process's values), else this process's registry."""
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, folder)
    return registry


class _Fixed(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


class _Joined(Collector):
    def __init__(self, collectors: list[Collector]) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


# --- access and processes -------------------------------------------------------------------


def token_matches(authorization: str | None, token: str) -> bool:
    """Does an Authorization header carry `Bearer <token>`? Compared in constant time."""
    if not authorization or not authorization.startswith("Bearer "):
        return False
    presented = authorization[len("Bearer "):].strip()
    return bool(presented) and hmac.compare_digest(presented.encode(), token.encode())


def serve(address: str, port: int, token: str | None) -> WSGIServer:
    """Serve this process's recorded metrics on address:port (a worker on a machine of its own), in a
    daemon thread; with `token`, only to requests that carry it."""
    server = make_server(address, port, _metrics_app(token), _ThreadingServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True).start()
    return server


def _metrics_app(token: str | None) -> Callable:
    def app(environ: dict, start_response: Callable) -> list[bytes]:
        if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if token and not token_matches(environ.get("HTTP_AUTHORIZATION"), token):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")])
            return [b"a bearer token is required\n"]
        body = generate_latest(REGISTRY)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))])
        return [body]

    return app


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """A scrape every 15 s is not worth a log line."""
