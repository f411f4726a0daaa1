"""The worker's first job: fetch the image of a new order from a real HTTP server on loopback."""
from __future__ import annotations

import hashlib

import pytest

from tests.support.api import post_image, status_of, ticket_of
from tests.support.pictures import encode, png_declaring
from tests.support.ports import free_port

pytestmark = pytest.mark.storage  # runs on the local folder and on S3


@pytest.fixture
def order_for(client, customer, template_id):
    """Place an order for a URL; returns its ticket."""

    def place(url: str) -> str:
        return ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))

    return place


@pytest.fixture
def status(client, customer):
    def read(ticket: str) -> tuple[str, str]:
        doc = status_of(client, customer, ticket)
        return doc.findtext("IMAGESTATUS/STATUSNAME"), doc.findtext("message")

    return read


def _order(app, ticket):
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        events = [(e.from_status, e.to_status) for e in order.events]
        db.session.expunge_all()
        return order, events


def test_fetched_image_is_stored_and_awaits_review(app, image_server, order_for, status, run_jobs, stored):
    picture = encode("JPEG", (64, 48))
    ticket = order_for(image_server.serve_bytes("/shirt.jpg", picture, "image/jpeg"))

    run_jobs()

    assert status(ticket) == ("Awaiting review", "")
    order, events = _order(app, ticket)
    assert (order.original_format, order.original_width, order.original_height) == ("JPEG", 64, 48)
    assert order.original_sha256 == hashlib.sha256(picture).hexdigest()
    assert stored(order.original_path) == picture
    assert events == [(None, 10), (10, 20), (20, 40)]


def test_the_bytes_decide_not_the_content_type(app, image_server, order_for, status, run_jobs):
    ticket = order_for(image_server.serve_bytes("/photo", encode("PNG"), "text/plain"))
    run_jobs()
    assert status(ticket)[0] == "Awaiting review"
    assert _order(app, ticket)[0].original_path.endswith("original.png")


def test_running_the_job_twice_changes_nothing_more(app, image_server, order_for, run_jobs):
    from workers.fetch import fetch_order_image

    ticket = order_for(image_server.serve_bytes("/a.png", encode("PNG"), "image/png"))
    run_jobs()
    order, events = _order(app, ticket)

    with app.app_context():
        assert fetch_order_image(order.id).startswith("skipped")
    assert _order(app, ticket)[1] == events
    assert len(image_server.seen("/a.png")) == 1


FAILURES = [
    ("text file named .jpg", lambda s: s.serve_bytes("/x.jpg", b"hello, I am text", "image/jpeg"), "notAnImage"),
    ("truncated JPEG", lambda s: s.serve_bytes("/t.jpg", encode("JPEG", (200, 200))[:700], "image/jpeg"),
     "corruptImage"),
    ("decompression bomb", lambda s: s.serve_bytes("/bomb.png", png_declaring(30000, 30000), "image/png"),
     "imageTooLarge"),
    ("404", lambda s: s.serve_status("/gone.jpg", 404), "downloadFailed"),
    ("redirect to cloud metadata", lambda s: s.redirect("/r.jpg", "http://169.254.169.254/latest/meta-data/"),
     "blockedAddress"),
]


@pytest.mark.parametrize("case, serve, reason", FAILURES, ids=[f[0] for f in FAILURES])
def test_bad_image_ends_failed_with_a_named_reason(app, image_server, order_for, status, run_jobs, case, serve, reason):
    ticket = order_for(serve(image_server))

    run_jobs()

    name, message = status(ticket)
    assert name == "Failed"
    assert message.startswith(reason + ": ")
    order, events = _order(app, ticket)
    assert order.failure_reason == reason and order.original_path is None
    assert events == [(None, 10), (10, 90)]


def test_file_over_max_image_bytes_fails_as_too_large(app, image_server, order_for, status, run_jobs):
    app.config["MAX_IMAGE_BYTES"] = 10_000
    ticket = order_for(image_server.serve_bytes("/big.png", encode("PNG", (200, 200)), "image/png"))
    run_jobs()
    assert status(ticket)[1].startswith("fileTooLarge: ")


def test_loopback_address_is_blocked_unless_private_networks_are_allowed(app, image_server, order_for,
                                                                         status, run_jobs):
    app.config["FETCH_ALLOW_PRIVATE_NETWORKS"] = False
    ticket = order_for(image_server.serve_bytes("/a.png", encode("PNG"), "image/png"))
    run_jobs()
    assert status(ticket)[1].startswith("blockedAddress: ")
    assert image_server.seen("/a.png") == []


def test_host_name_resolving_to_loopback_is_blocked(app, image_server, order_for, status, run_jobs):
    app.config["FETCH_ALLOW_PRIVATE_NETWORKS"] = False
    url = image_server.serve_bytes("/a.png", encode("PNG"), "image/png").replace("127.0.0.1", "localhost")
    ticket = order_for(url)
    run_jobs()
    assert status(ticket)[1].startswith("blockedAddress: ")
    assert image_server.seen("/a.png") == []


def test_network_failure_is_retried_twice_then_fails(app, image_server, order_for, status, run_jobs):
    ticket = order_for(image_server.serve_status("/flaky.jpg", 503))

    run_jobs()

    assert len(image_server.seen("/flaky.jpg")) == 3
    assert status(ticket)[1].startswith("downloadFailed: ")


def test_service_keeps_answering_after_failed_orders(image_server, order_for, status, run_jobs,
                                                     client, customer, template_id):
    order_for(image_server.serve_bytes("/x.jpg", b"not an image", "image/jpeg"))
    run_jobs()
    good = order_for(image_server.serve_bytes("/ok.png", encode("PNG"), "image/png"))
    run_jobs()
    assert status(good)[0] == "Awaiting review"


@pytest.mark.parametrize("route", [lambda s: s.serve_status("/secret", 403), None])
def test_the_customer_is_not_told_what_answered_where(app, image_server, order_for, status, run_jobs, route):
    url = route(image_server) if route else f"http://127.0.0.1:{free_port()}/a.png"
    ticket = order_for(url)
    run_jobs()

    name, message = status(ticket)
    assert name == "Failed"
    assert message == "downloadFailed: The image URL could not be fetched (DNS, connection, timeout, HTTP error, " \
                      "too many redirects), after retries."


def test_operators_see_what_the_fetch_met(app, image_server, order_for, run_jobs):
    ticket = order_for(image_server.serve_status("/secret", 403))
    run_jobs()

    assert "HTTP 403" in _order(app, ticket)[0].failure_message


def test_only_ports_80_and_443_are_fetched_by_default(app, image_server, order_for, status, run_jobs):
    app.config["FETCH_ALLOWED_PORTS"] = "80,443"
    ticket = order_for(image_server.serve_bytes("/a.png", encode("PNG"), "image/png"))
    run_jobs()

    assert status(ticket)[1].startswith("blockedAddress: ")
    assert image_server.seen("/a.png") == []
    assert "port" in _order(app, ticket)[0].failure_message
