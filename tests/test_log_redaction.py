"""No API key in gunicorn's logs: infrastructure.gunicorn_logging (the whole run is in test_run_system.py)."""
from __future__ import annotations

import pytest
from gunicorn.config import Config

from infrastructure.gunicorn_logging import RedactingLogger, redact


@pytest.mark.parametrize("line", [
    "GET /REST.svc/Templates/?ContactEmail=shop%40example.com&ContactAPIkey=SECRET HTTP/1.1",
    "GET /REST.svc/Templates/?contactapikey=SECRET HTTP/1.1",
    "GET /REST.svc/Templates/?CONTACTAPIKEY=SECRET&ContactEmail=a%40b.c HTTP/1.1",
    "GET /REST.svc/Templates/?Contact%41PIkey=SECRET HTTP/1.1",
    "ContactEmail=a%40b.c&ContactAPIkey=SECRET",
], ids=["as-documented", "lower-case", "upper-case-first", "percent-encoded-name", "bare-query-string"])
def test_the_contact_key_is_masked_however_its_name_is_spelled(line):
    assert "SECRET" not in redact(line)
    assert "=***" in redact(line)


def test_the_developer_key_is_masked_too():
    assert redact("GET /REST.svc/Image/?developerAPIkey=PARTNER HTTP/1.1") == \
        "GET /REST.svc/Image/?developerAPIkey=*** HTTP/1.1"


def test_a_key_value_is_masked_whole_up_to_the_next_parameter():
    # werkzeug splits on "&" only: ";" and quotes are part of the value the API reads.
    assert redact("GET /x?ContactAPIkey=abc;def\"ghi&TemplateId=7 HTTP/1.1") == \
        "GET /x?ContactAPIkey=***&TemplateId=7 HTTP/1.1"


def test_the_path_and_the_other_parameters_stay_as_they_came():
    line = "GET /REST.svc/Image/Status/T-123/?ContactEmail=shop%40example.com&ContactAPIkey=SECRET HTTP/1.1"
    assert redact(line) == line.replace("SECRET", "***")


@pytest.fixture
def gunicorn_logger(tmp_path):
    """gunicorn's logger as gunicorn.conf.py configures it, writing its error log to a file."""
    config = Config()
    config.set("errorlog", str(tmp_path / "error.log"))
    logger = RedactingLogger(config)
    yield logger
    for handler in list(logger.error_log.handlers):  # gunicorn.error is process-wide
        handler.close()
        logger.error_log.removeHandler(handler)


def test_gunicorn_s_error_log_masks_the_key_of_a_request_it_names(gunicorn_logger, tmp_path):
    gunicorn_logger.exception("Error handling request %s", "/REST.svc/Templates/?ContactAPIkey=SECRET")

    for handler in gunicorn_logger.error_log.handlers:
        handler.flush()
    written = (tmp_path / "error.log").read_text()
    assert "/REST.svc/Templates/?ContactAPIkey=***" in written
    assert "SECRET" not in written
