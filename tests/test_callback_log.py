"""What operators read about callbacks: a short reason per failed attempt with the client's detail
apart, and where the callback stands in the end."""
from __future__ import annotations

import socket
import threading

import pytest

from tests.support.api import post_image, ticket_of
from tests.support.pictures import encode
from tests.support.ports import free_port


@pytest.fixture
def deliver_with_callback(app, client, customer, template_id, image_server, run_jobs, make_operator):
    """Order with a callback URL, approved and delivered by the worker; returns the ticket."""
    make_operator("olga")

    def make(callback_url: str) -> str:
        url = image_server.serve_bytes("/shirt.png", encode("PNG", (64, 48)), "image/png")
        ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url,
                                      ImageCallbackURL=callback_url))
        run_jobs()
        approved = app.test_cli_runner().invoke(args=["review", "approve", ticket, "--operator", "olga"])
        assert approved.exit_code == 0, approved.output
        run_jobs()
        return ticket

    return make


@pytest.fixture
def hangs_up():
    """A TCP server on loopback that reads the request and closes without a word; yields its URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.settimeout(0.3)
            try:
                while conn.recv(65536):  # all of it: unread bytes would turn the close into a reset
                    pass
            except TimeoutError:
                pass
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    server.close()


def _attempts(app, ticket):
    from orders import callbacks

    with app.app_context():
        return [(a.error, a.error_detail) for a in callbacks.attempts_of(ticket)]


def test_a_refused_connection_is_logged_as_connection_refused_with_the_detail_apart(app, deliver_with_callback):
    ticket = deliver_with_callback(f"http://127.0.0.1:{free_port()}/hook")

    [(reason, detail)] = _attempts(app, ticket)
    assert reason == "connection refused"
    assert "ConnectionError" in detail and "refused" in detail


def test_a_receiver_that_hangs_up_is_logged_as_closed_without_an_answer(app, deliver_with_callback, hangs_up):
    ticket = deliver_with_callback(hangs_up)

    [(reason, detail)] = _attempts(app, ticket)
    assert reason == "connection closed without an answer"
    assert detail


def test_the_callbacks_command_ends_with_where_the_callback_stands(app, deliver_with_callback):
    ticket = deliver_with_callback(f"http://127.0.0.1:{free_port()}/hook")

    result = app.test_cli_runner().invoke(args=["callbacks", ticket])
    lines = result.output.splitlines()
    assert result.exit_code == 0
    assert "connection refused" in lines[0]
    assert lines[-1] == "callback: pending (queued, or waiting for its next retry)"
