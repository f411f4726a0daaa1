"""From approval to the customer: render, FINALIMAGEURL, and the signed callback."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from standardwebhooks import Webhook, WebhookVerificationError

from tests.support.api import post_image, status_of, ticket_of
from tests.support.pictures import encode
from tests.support.waiting import wait_until

pytestmark = pytest.mark.storage  # runs on the local folder and on S3

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def order_with_callback(app, client, customer, make_template, image_server, receiver, run_jobs, make_operator):
    """An order with a callback URL, drafted and awaiting review; returns its ticket."""

    def make(**template_options) -> str:
        template = make_template(**template_options)
        url = image_server.serve_bytes("/shirt.jpg", encode("JPEG", (96, 64)), "image/jpeg")
        ticket = ticket_of(post_image(client, customer, templateId=template, ImageURL=url,
                                      ImageCallbackURL=receiver.url()))
        run_jobs()
        return ticket

    make_operator("olga")
    return make


def _approve(app, ticket):
    result = app.test_cli_runner().invoke(args=["review", "approve", ticket, "--operator", "olga"])
    assert result.exit_code == 0, result.output


def _secret(app, email):
    from infrastructure.extensions import db
    from orders.models import Customer

    with app.app_context():
        return db.session.scalar(db.select(Customer.webhook_secret).where(Customer.email == email))


def test_approved_order_is_delivered_and_the_customer_called_back(app, client, customer, order_with_callback,
                                                                  receiver, run_jobs):
    ticket = order_with_callback()
    _approve(app, ticket)
    run_jobs()

    status = status_of(client, customer, ticket).find("IMAGESTATUS")
    final_url = status.findtext("FINALIMAGEURL")
    assert (status.findtext("STATUSID"), status.findtext("STATUSNAME")) == ("80", "Delivered")
    assert final_url.startswith("http://testserver.example/files/") and final_url.endswith("/shirt.png")
    [call] = receiver.received
    assert call.form == {"imageTicket": ticket, "ProcessedImageURL": final_url, "StatusId": "80",
                         "StatusName": "Delivered", "CustomerImageId": ""}
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"


def test_the_callback_signature_verifies_with_standardwebhooks(app, customer, order_with_callback, receiver, run_jobs):
    ticket = order_with_callback()
    _approve(app, ticket)
    run_jobs()

    [call] = receiver.received
    headers = {k: call.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    assert Webhook(_secret(app, customer.email)).verify(call.body, headers, json_parse=False) is None
    with pytest.raises(WebhookVerificationError):
        Webhook(_secret(app, customer.email)).verify(call.body + "x", headers, json_parse=False)


def test_final_image_is_served_with_type_etag_and_ranges(app, client, customer, order_with_callback, run_jobs):
    ticket = order_with_callback()
    _approve(app, ticket)
    run_jobs()
    path = (status_of(client, customer, ticket).findtext("IMAGESTATUS/FINALIMAGEURL")
            .replace("http://testserver.example", ""))

    whole = client.get(path)
    assert whole.status_code == 200 and whole.mimetype == "image/png"
    assert Image.open(io.BytesIO(whole.data)).size == (96, 64)
    assert client.get(path, headers={"If-None-Match": whole.headers["ETag"]}).status_code == 304
    part = client.get(path, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == whole.data[:10]
    assert client.get(path.replace("/shirt.png", "/other.png")).status_code == 404
    assert client.get("/files/not-a-token/shirt.png").status_code == 404


def test_jpeg_template_delivers_the_clipping_path_as_svg_beside_it(app, client, customer,
                                                                   order_with_callback, run_jobs):
    ticket = order_with_callback(format="jpg")
    _approve(app, ticket)
    run_jobs()
    path = (status_of(client, customer, ticket).findtext("IMAGESTATUS/FINALIMAGEURL")
            .replace("http://testserver.example", ""))

    assert path.endswith("/shirt.jpg") and client.get(path).mimetype == "image/jpeg"
    svg = client.get(path.replace("/shirt.jpg", "/shirt.svg"))
    assert svg.status_code == 200 and b"<path" in svg.data


def test_rejected_order_calls_back_with_an_empty_image_url(app, order_with_callback, receiver, run_jobs):
    ticket = order_with_callback()
    result = app.test_cli_runner().invoke(args=["review", "reject", ticket, "--operator", "olga",
                                                "--reason", "subjectUnclear"])
    assert result.exit_code == 0
    run_jobs()

    [call] = receiver.received
    assert call.form == {"imageTicket": ticket, "ProcessedImageURL": "", "StatusId": "95", "StatusName": "Rejected",
                         "CustomerImageId": ""}


def test_failed_order_calls_back_too(app, client, customer, template_id, image_server, receiver, run_jobs):
    url = image_server.serve_bytes("/x.jpg", b"text, not an image", "image/jpeg")
    ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url,
                         ImageCallbackURL=receiver.url()))
    run_jobs()

    [call] = receiver.received
    assert call.form["StatusId"] == "90" and call.form["ProcessedImageURL"] == ""


def test_a_redirect_is_a_failure_and_is_not_followed(app, order_with_callback, receiver, run_jobs):
    app.config["CALLBACK_RETRY_INTERVALS"] = "0,0,0"
    receiver.answers = [302]
    ticket = order_with_callback()
    _approve(app, ticket)
    run_jobs()

    assert [c.path for c in receiver.received] == ["/hook"] * 4  # one attempt + three retries, never /redirected
    assert _callback_state(app, ticket) == "failed"


def test_410_gone_stops_the_retries(app, order_with_callback, receiver, run_jobs):
    app.config["CALLBACK_RETRY_INTERVALS"] = "0,0,0"
    receiver.answers = [410]
    ticket = order_with_callback()
    _approve(app, ticket)
    run_jobs()

    assert len(receiver.received) == 1
    assert _callback_state(app, ticket) == "gone"


def test_a_receiver_that_times_out_is_retried(app, order_with_callback, receiver, run_jobs):
    app.config.update(CALLBACK_RETRY_INTERVALS="0", CALLBACK_TIMEOUT_SECONDS=1)
    receiver.answers = [3.0, 200]
    ticket = order_with_callback()
    _approve(app, ticket)
    run_jobs()

    assert len(receiver.received) == 2
    assert _callback_state(app, ticket) == "delivered"
    result = app.test_cli_runner().invoke(args=["callbacks", ticket])
    lines = result.output.strip().splitlines()
    assert "no answer within 1 s" in lines[0] and "ReadTimeout" in lines[1]  # the detail, for operators
    assert lines[2].endswith("ok") and lines[3].startswith("callback: delivered")


def test_resend_callback_sends_it_again(app, order_with_callback, receiver, run_jobs):
    ticket = order_with_callback()
    _approve(app, ticket)
    run_jobs()

    assert app.test_cli_runner().invoke(args=["resend-callback", ticket]).exit_code == 0
    run_jobs()
    assert len(receiver.received) == 2


def _callback_state(app, ticket):
    from orders.lookups import order_by_ticket

    with app.app_context():
        return order_by_ticket(ticket).callback_state


# --- retries scheduled in Redis, run by real worker processes ---------------------------


def _worker(app, backend):
    env = dict(os.environ, DATABASE_URL=app.config["DATABASE_URL"], REDIS_URL=app.config["REDIS_URL"],
               STORAGE_DIR=app.config["STORAGE_DIR"], MODEL_DIR=app.config["MODEL_DIR"],
               SEGMENTATION_MODEL=app.config["SEGMENTATION_MODEL"], FETCH_ALLOW_PRIVATE_NETWORKS="1",
               FETCH_ALLOWED_PORTS="*",
               CALLBACK_RETRY_INTERVALS=app.config["CALLBACK_RETRY_INTERVALS"], PUBLIC_BASE_URL="http://testserver.example")
    return subprocess.Popen([str(Path(sys.executable).parent / "flask"), "--app", "app", "worker",
                             "--queues", "callback"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


@pytest.fixture
def delivered_but_unsent(app, order_with_callback, run_jobs):
    """An order rendered and delivered whose callback job waits in the queue for a real worker."""

    def make() -> str:
        from infrastructure.queues import queue

        ticket = order_with_callback()
        _approve(app, ticket)
        with app.app_context():
            from workers.runner import run_worker

            run_worker(app, ["render"], burst=True)
            assert queue("callback").count == 1
        return ticket

    return make


def test_a_failing_receiver_gets_exactly_four_attempts_with_growing_gaps(app, backend, delivered_but_unsent, receiver):
    if backend.name != "embedded":
        pytest.skip("one backend is enough for a test of processes")
    app.config["CALLBACK_RETRY_INTERVALS"] = "1,3,6"  # the scheduler wakes each second: keep the gaps apart
    receiver.answers = [500]
    ticket = delivered_but_unsent()
    worker = _worker(app, backend)
    try:
        assert wait_until(lambda: _callback_state(app, ticket) == "failed", 60)
        time.sleep(1)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    times = [c.at for c in receiver.received]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) == 4
    # RQ stores a retry's time in whole seconds (utctimetuple), so a gap may come up to 1 s short.
    assert gaps[1] >= 2 and gaps[2] >= 5
    assert gaps[0] < gaps[1] < gaps[2]


def test_a_retry_survives_a_worker_restart(app, backend, delivered_but_unsent, receiver):
    if backend.name != "embedded":
        pytest.skip("one backend is enough for a test of processes")
    app.config["CALLBACK_RETRY_INTERVALS"] = "4,4,4"
    receiver.answers = [500, 200]
    ticket = delivered_but_unsent()
    first = _worker(app, backend)
    assert wait_until(lambda: len(receiver.received) == 1, 60)
    os.killpg(first.pid, signal.SIGKILL)  # dies with the retry scheduled in Redis
    first.wait(30)
    second = _worker(app, backend)
    try:
        assert wait_until(lambda: _callback_state(app, ticket) == "delivered", 90)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(30)
    assert len(receiver.received) == 2


def test_cleanup_removes_finals_past_retention_and_their_urls_answer_gone(app, client, customer, order_with_callback,
                                                                          run_jobs):
    from datetime import timedelta

    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket
    from orders.models import utcnow

    ticket = order_with_callback(format="jpg")
    _approve(app, ticket)
    run_jobs()
    path = (status_of(client, customer, ticket).findtext("IMAGESTATUS/FINALIMAGEURL")
            .replace("http://testserver.example", ""))
    runner = app.test_cli_runner()

    assert runner.invoke(args=["cleanup-finals"]).output.strip() == "deleted 0 file(s)"  # still within retention
    with app.app_context():
        for delivery in order_by_ticket(ticket).deliveries:
            delivery.delivered_at = utcnow() - timedelta(days=app.config["FINAL_RETENTION_DAYS"] + 1)
        db.session.commit()

    assert runner.invoke(args=["cleanup-finals"]).output.strip() == "deleted 2 file(s)"  # the JPEG and its SVG
    assert client.get(path).status_code == 410
