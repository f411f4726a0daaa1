"""GET /healthz and GET /readyz: what a load balancer asks before it sends a machine traffic."""
from __future__ import annotations

import socket
import time

import pytest

CLOSED_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def silent_redis():
    """A port that takes connections and never says a word, as a hung Redis does."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # never accepted: the kernel completes the handshakes, nobody answers
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def _timed_get(client, path: str):
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def test_readyz_answers_200_when_the_database_and_redis_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_answers_503_naming_redis_when_redis_is_down(app, client):
    app.config["REDIS_URL"] = CLOSED_REDIS
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "failing": ["redis"]}


def test_readyz_answers_within_about_a_second_when_redis_hangs(app, client, silent_redis):
    app.config["REDIS_URL"] = silent_redis
    response, took = _timed_get(client, "/readyz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["redis"]
    assert took < 3


def test_readyz_answers_503_naming_the_database_when_it_is_unreachable(app_without_database):
    response, took = _timed_get(app_without_database.test_client(), "/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "failing": ["database"]}
    assert took < 3  # the pool's 3 s of reconnect attempts do not hold the probe


def test_readyz_names_both_parts_when_both_are_down(app_without_database):
    app_without_database.config["REDIS_URL"] = CLOSED_REDIS
    response = app_without_database.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["database", "redis"]


def test_healthz_answers_200_even_when_the_database_and_redis_are_down(app_without_database):
    app_without_database.config["REDIS_URL"] = CLOSED_REDIS
    response = app_without_database.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_health_answers_are_never_cached(client):
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"
    assert client.get("/readyz").headers["Cache-Control"] == "no-store"
