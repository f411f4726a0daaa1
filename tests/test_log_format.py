"""LOG_FORMAT: what a log line holds, as text and as JSON (infrastructure.log_format, log_context).

The processes that write them (a worker, gunicorn) are in test_structured_logs.py.
"""
from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest

from infrastructure import log_context
from infrastructure.log_format import parse_format, prepare


@pytest.fixture
def written():
    """A logger whose lines land in a buffer through a handler set up as every process sets up its own
    (infrastructure.ratelimit's lines too); returns (logger, lines())."""
    buffer = io.StringIO()
    handler = prepare(logging.StreamHandler(buffer), "json")
    logger = logging.getLogger("tests.log_format")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    watched = [logger, logging.getLogger("infrastructure.ratelimit")]
    for each in watched:
        each.addHandler(handler)
        each.disabled = False  # alembic's fileConfig (migrating the test database) disables loggers it finds

    def lines(log_format: str = "json") -> list:
        text = buffer.getvalue().splitlines()
        return [json.loads(line) for line in text] if log_format == "json" else text

    def use(log_format: str) -> None:
        prepare(handler, log_format)

    lines.use = use
    yield logger, lines
    for each in watched:
        each.removeHandler(handler)


def test_a_json_line_has_time_level_logger_and_message(written):
    logger, lines = written
    logger.warning("order %s waits", 7)

    [line] = lines()
    assert {k: line[k] for k in ("level", "logger", "message")} == {
        "level": "WARNING", "logger": "tests.log_format", "message": "order 7 waits"}
    stamped = datetime.fromisoformat(line["time"])
    assert stamped.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - stamped).total_seconds()) < 60


def test_a_line_logged_within_a_job_names_its_ticket_and_job_id(written):
    logger, lines = written
    with log_context.bound(ticket="t-123", job_id="fetch-5"):
        logger.info("inside")
    logger.info("outside")

    inside, outside = lines()
    assert (inside["ticket"], inside["job_id"]) == ("t-123", "fetch-5")
    assert "ticket" not in outside and "job_id" not in outside


def test_an_exception_is_a_field_of_its_line(written):
    logger, lines = written
    try:
        raise RuntimeError("disk on fire")
    except RuntimeError:
        logger.exception("render failed")

    [line] = lines()
    assert line["message"] == "render failed"
    assert "Traceback" in line["exc_info"] and "RuntimeError: disk on fire" in line["exc_info"]


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_no_api_key_reaches_a_line_in_its_message_or_its_traceback(written, log_format):
    logger, lines = written
    lines.use(log_format)
    try:
        raise ValueError("bad call /REST.svc/Templates/?ContactAPIkey=SECRET1")
    except ValueError:
        logger.exception("GET /REST.svc/Image/?developerAPIkey=%s&x=1", "SECRET2")

    text = "\n".join(json.dumps(line) for line in lines()) if log_format == "json" else "\n".join(lines("text"))
    assert "SECRET" not in text
    assert "ContactAPIkey=***" in text and "developerAPIkey=***" in text


def test_a_text_line_stays_readable_and_names_its_ticket_and_job(written):
    logger, lines = written
    lines.use("text")
    with log_context.bound(ticket="t-9", job_id="render-9"):
        logger.info("rendered")

    [line] = lines("text")
    assert line.endswith(" INFO tests.log_format: rendered [ticket=t-9 job_id=render-9]")


def test_a_line_logged_while_serving_a_url_with_a_ticket_names_it(app, client, written):
    logger, lines = written

    @app.get("/probe/<ticket>/")
    def probe(ticket: str) -> str:
        logger.info("serving")
        return "ok"

    client.get("/probe/3f2a-ticket/")
    logger.info("after the request")

    serving, after = lines()
    assert serving["ticket"] == "3f2a-ticket"
    assert "ticket" not in after  # the next request on this thread starts clean


@pytest.fixture
def app_without_redis(backend, tmp_path):
    """The app while its Redis is down: every rate-limit count logs a warning (and lets the call through)."""
    from app import create_app

    return create_app({"TESTING": True, "DATABASE_URL": backend.database_url, "SECRET_KEY": "test",
                       "REDIS_URL": "redis://127.0.0.1:1/0", "STORAGE_DIR": str(tmp_path / "storage")})


def test_a_rest_call_naming_a_ticket_logs_it(app_without_redis, written):
    _logger, lines = written
    app_without_redis.test_client().get("/REST.svc/Image/Status/5a0f2c1e-ticket/",
                                        query_string={"ContactEmail": "a@example.com", "ContactAPIkey": "k"})

    assert lines() and all(line["ticket"] == "5a0f2c1e-ticket" for line in lines())
    assert all("rate limit storage unreachable" in line["message"] for line in lines())


def test_a_soap_call_naming_a_ticket_logs_it(app_without_redis, written):
    from tests.support.soap import XML_HEADERS, envelope

    _logger, lines = written
    app_without_redis.test_client().post("/SOAP.svc", headers=XML_HEADERS, data=envelope(
        "GetImageStatus", ContactEmail="a@example.com", ContactAPIkey="k", ImageTicket="5a0f2c1e-ticket"))

    # Counted per address before spyne reads the envelope, then as a failed sign-in within the operation.
    before, *within = lines()
    assert "ticket" not in before
    assert within and all(line["ticket"] == "5a0f2c1e-ticket" for line in within)


def test_log_format_is_text_or_json():
    assert parse_format(" JSON ") == "json"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        parse_format("xml")
