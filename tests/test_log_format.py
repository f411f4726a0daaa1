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
    """A logger whose lines land in a buffer through a handler set up as every process sets up its own;
    returns (logger, lines())."""
    buffer = io.StringIO()
    handler = prepare(logging.StreamHandler(buffer), "json")
    logger = logging.getLogger("tests.log_format")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.disabled = False  # alembic's fileConfig (migrating the test database) disables loggers it finds

    def lines(log_format: str = "json") -> list:
        text = buffer.getvalue().splitlines()
        return [json.loads(line) for line in text] if log_format == "json" else text

    def use(log_format: str) -> None:
        prepare(handler, log_format)

    lines.use = use
    yield logger, lines
    logger.removeHandler(handler)


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


def test_log_format_is_text_or_json():
    assert parse_format(" JSON ") == "json"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        parse_format("xml")
