"""A restarted PostgreSQL costs no request, and a job it interrupts runs again at once.

The restart is real as far as our side can tell: the server cuts every
client connection (pg_terminate_backend), so every pooled connection is dead.
"""
from __future__ import annotations

import threading

import pytest

from tests.support import backends
from tests.support.api import post_image, status_of, ticket_of
from tests.support.pictures import encode


@pytest.fixture
def postgres(backend):
    if backend.name != "services":
        pytest.skip("needs the PostgreSQL server (a SQLite file has no connections to lose)")


def test_the_first_request_after_a_database_restart_is_answered(app, postgres, client, customer, template_id):
    assert post_image(client, customer, templateId=template_id).status_code == 200  # the pool holds connections
    assert backends.drop_database_connections() >= 1

    answer = post_image(client, customer, templateId=template_id)
    assert answer.status_code == 200
    ticket_of(answer)


@pytest.fixture
def app_behind_proxy(app, postgres, tmp_path, app_model_dir):
    """The app reaching PostgreSQL through a TCP proxy the test can take down: (app, proxy)."""
    from app import create_app
    from tests.support.tcp_proxy import TcpProxy

    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.up()
    url = app.config["DATABASE_URL"].replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    behind = create_app({**app.config, "DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url})
    yield behind, proxy
    proxy.down()
    with behind.app_context():
        from infrastructure.extensions import db

        db.engine.dispose()


def test_a_request_arriving_while_the_database_restarts_waits_for_it(app_behind_proxy, customer, template_id):
    behind, proxy = app_behind_proxy
    client = behind.test_client()
    assert post_image(client, customer, templateId=template_id).status_code == 200
    proxy.down()  # the server is gone: pooled connections cut, new ones refused
    threading.Timer(1.0, proxy.up).start()  # and back a second later

    answer = post_image(client, customer, templateId=template_id)
    assert answer.status_code == 200
    ticket_of(answer)


class _CutsTheDatabaseOnce:
    """The tiny model, but the database goes away while it runs (once)."""

    def __init__(self, model):
        self.model, self.cut = model, False
        self.input_size = model.input_size

    def predict(self, image):
        if not self.cut:
            self.cut = backends.drop_database_connections() >= 1
        return self.model.predict(image)


def test_a_draft_interrupted_by_a_database_restart_is_run_again_and_reaches_review(
        app, postgres, client, customer, template_id, image_server, box_segmenter, run_jobs, monkeypatch):
    from workers import model

    flaky = _CutsTheDatabaseOnce(box_segmenter)
    monkeypatch.setattr(model, "segmenter", lambda: flaky)
    url = image_server.serve_bytes("/a.png", encode("PNG", (96, 64)), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))

    run_jobs()  # no sweep runs here: the job itself must come back
    assert flaky.cut
    assert status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSID") == "40"
