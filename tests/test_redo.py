"""Reject (redo): a customer sends a delivered image back; it returns to the top of the review queue,
is fixed, and is delivered again with a new final and a second callback."""
from __future__ import annotations

import io
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.support.api import error_code, parse_valid, post_image, status_of, ticket_of
from tests.support.dashboard import csrf_token, post_form, post_json, sign_in
from tests.support.pictures import encode, png_declaring


def _reject(client, account, ticket: str, **fields):
    return client.post(f"/REST.svc/Image/{ticket}/Reject/", json={**account.creds(), **fields})


def _order(app, ticket: str):
    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket

    with app.app_context():
        order = order_by_ticket(ticket)
        order.deliveries, order.redo_requests, order.events  # noqa: B018 - loaded before leaving the session
        db.session.expunge_all()
        return order


def _set(app, ticket: str, **columns) -> None:
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        db.session.execute(db.update(Order).where(Order.ticket == ticket).values(**columns))
        db.session.commit()


def _status(client, account, ticket: str) -> str:
    return status_of(client, account, ticket).findtext("IMAGESTATUS/STATUSID")


@pytest.fixture
def delivered(deliver) -> str:
    return deliver(1)[0]


def test_a_delivered_order_sent_back_is_redo_requested(client, customer, delivered):
    doc = parse_valid(_reject(client, customer, delivered, Comment="The shadow under the heel is cut off."))

    assert (doc.findtext("ERRORCODE"), doc.findtext("STATUSID"), doc.findtext("STATUSNAME")) == (
        "noError", "45", "Redo requested")
    assert (doc.findtext("REDONUMBER"), doc.findtext("MARKUP")) == ("1", "none")
    assert _status(client, customer, delivered) == "45"


def test_the_redo_keeps_the_comment_and_gets_its_own_due_time(app, client, customer, delivered):
    _reject(client, customer, delivered, Comment="Keep the laces.")

    order = _order(app, delivered)
    assert [r.comment for r in order.redo_requests] == ["Keep the laces."]
    requested = order.redo_requests[0].requested_at
    assert order.due_at - requested == timedelta(hours=app.config["REDO_HOURS"])


def test_an_order_not_delivered_cannot_be_sent_back(client, customer, template_id):
    ticket = ticket_of(post_image(client, customer, templateId=template_id))

    answer = _reject(client, customer, ticket, Comment="no")

    assert answer.status_code == 409 and error_code(answer) == "redoNotAllowed"
    assert _status(client, customer, ticket) == "10"


def test_an_order_delivered_longer_ago_than_the_window_cannot_be_sent_back(app, client, customer, delivered):
    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket
    from orders.models import utcnow

    with app.app_context():
        for delivery in order_by_ticket(delivered).deliveries:
            delivery.delivered_at = utcnow() - timedelta(days=app.config["REDO_WINDOW_DAYS"], minutes=1)
        db.session.commit()

    answer = _reject(client, customer, delivered, Comment="late")

    assert answer.status_code == 409 and error_code(answer) == "redoNotAllowed"
    assert _status(client, customer, delivered) == "80"


def test_an_order_sent_back_max_redos_times_cannot_be_sent_back_again(app, client, customer, delivered):
    _set(app, delivered, redo_count=app.config["MAX_REDOS"])

    answer = _reject(client, customer, delivered, Comment="again")

    assert answer.status_code == 409 and error_code(answer) == "redoNotAllowed"
    assert "3 times" in parse_valid(answer).findtext("message")


def test_sending_back_twice_without_a_new_delivery_is_not_allowed(client, customer, delivered):
    _reject(client, customer, delivered, Comment="first")

    answer = _reject(client, customer, delivered, Comment="second")

    assert answer.status_code == 409 and error_code(answer) == "redoNotAllowed"


def test_a_comment_is_required(client, customer, delivered):
    answer = _reject(client, customer, delivered, Comment="  ")

    assert answer.status_code == 400 and error_code(answer) == "missingParameter"
    assert _status(client, customer, delivered) == "80"


def test_an_over_long_comment_is_refused(client, customer, delivered):
    answer = _reject(client, customer, delivered, Comment="x" * 2001)

    assert answer.status_code == 400 and error_code(answer) == "invalidParameter"


def test_a_markup_url_that_is_not_http_is_refused(client, customer, delivered):
    answer = _reject(client, customer, delivered, Comment="see markup", MarkupImageURL="file:///etc/passwd")

    assert answer.status_code == 400 and error_code(answer) == "invalidParameter"
    assert _status(client, customer, delivered) == "80"


def test_an_unknown_or_foreign_ticket_answers_like_an_unknown_one(client, customer, make_customer, delivered):
    other = make_customer("other@example.com")
    unknown = str(uuid.uuid4())

    foreign = parse_valid(_reject(client, other, delivered, Comment="mine?"))
    missing = parse_valid(_reject(client, customer, unknown, Comment="?"))

    assert (foreign.findtext("ERRORCODE"), foreign.findtext("message")) == ("unknownTicket",
                                                                            f"no order has ticket {delivered}")
    assert missing.findtext("ERRORCODE") == "unknownTicket"


def test_a_redo_cannot_be_cancelled(client, customer, delivered):
    _reject(client, customer, delivered, Comment="fix it")

    answer = client.delete(f"/REST.svc/Image/{delivered}/", query_string=customer.creds())

    assert answer.status_code == 409 and error_code(answer) == "notCancellable"


def _markup_state(app, ticket: str) -> tuple[str, str | None]:
    request = _order(app, ticket).redo_requests[-1]
    return request.markup_state, request.markup_note


@pytest.mark.storage
def test_the_markup_image_is_fetched_and_kept(app, client, customer, delivered, image_server, run_jobs):
    url = image_server.serve_bytes("/markup.png", encode("PNG", (96, 64)), "image/png")

    doc = parse_valid(_reject(client, customer, delivered, Comment="see the circles", MarkupImageURL=url))
    run_jobs()

    assert doc.findtext("MARKUP") == "pending"
    assert _markup_state(app, delivered) == ("available", None)


HOSTILE_MARKUPS = [
    ("blocked address", lambda server: "http://169.254.169.254/latest/meta-data/", "blockedAddress"),
    ("not an image", lambda server: server.serve_bytes("/notes.txt", b"just words", "image/png"), "notAnImage"),
    ("decompression bomb", lambda server: server.serve_bytes("/bomb.png", png_declaring(60000, 60000), "image/png"),
     "imageTooLarge"),
]


@pytest.mark.parametrize("case, make_url, reason", HOSTILE_MARKUPS, ids=[c[0] for c in HOSTILE_MARKUPS])
def test_a_bad_markup_is_marked_unavailable_and_the_redo_is_kept(app, client, customer, delivered, image_server,
                                                                 run_jobs, case, make_url, reason):
    _reject(client, customer, delivered, Comment="the complaint", MarkupImageURL=make_url(image_server))
    run_jobs()

    state, note = _markup_state(app, delivered)
    assert state == "unavailable" and note.startswith(reason)
    order = _order(app, delivered)
    assert order.status == 45 and order.redo_requests[-1].comment == "the complaint"


def test_a_markup_the_store_will_not_keep_is_marked_unavailable_and_the_redo_is_kept(
        app, client, customer, delivered, image_server, refused_store, run_jobs):
    url = image_server.serve_bytes("/markup.png", encode("PNG", (96, 64)), "image/png")
    _reject(client, customer, delivered, Comment="the complaint", MarkupImageURL=url)
    refused_store.refuse(f"orders/{delivered[:2]}/{delivered}/redo-1-markup.png")
    run_jobs()

    state, note = _markup_state(app, delivered)
    assert state == "unavailable" and note.startswith("storageUnavailable")
    order = _order(app, delivered)
    assert order.status == 45 and order.redo_requests[-1].comment == "the complaint"


# --- the operators' side ---------------------------------------------------------------------------------


@pytest.fixture
def olga(client, make_operator):
    make_operator("olga")
    sign_in(client, "olga")
    return "olga"


def test_a_redo_goes_to_the_top_of_the_queue(app, client, customer, delivered, reviewable, olga):
    (waiting,) = reviewable(1)
    _set(app, waiting, due_at=_order(app, waiting).created_at - timedelta(hours=1))  # overdue, yet second
    _reject(client, customer, delivered, Comment="fix")

    with app.app_context():
        from orders import review

        assert [o.ticket for o in review.queue()] == [delivered, waiting]
    claimed = post_form(client, "/dashboard/claim-next").headers["Location"]
    assert claimed.endswith(delivered)


def test_the_queue_shows_a_redo_badge(client, customer, delivered, olga):
    _reject(client, customer, delivered, Comment="fix")

    assert 'class="badge redo"' in client.get("/dashboard/").get_data(as_text=True)


def test_the_review_page_shows_the_comment_and_the_markup_toggle(app, client, customer, delivered, image_server,
                                                                 run_jobs, olga):
    url = image_server.serve_bytes("/markup.png", encode("PNG", (96, 64)), "image/png")
    _reject(client, customer, delivered, Comment="Circle: keep the strap", MarkupImageURL=url)
    run_jobs()
    post_form(client, f"/dashboard/review/{delivered}/claim")

    page = client.get(f"/dashboard/review/{delivered}").get_data(as_text=True)

    assert "Circle: keep the strap" in page and 'id="markup"' in page and "Redo 1" in page
    assert 'id="reject"' not in page
    markup = client.get(f"/dashboard/files/{delivered}/markup")
    assert markup.status_code == 200 and markup.mimetype == "image/png"


def test_a_redo_cannot_be_rejected_by_the_operator(client, customer, delivered, olga):
    _reject(client, customer, delivered, Comment="fix")
    post_form(client, f"/dashboard/review/{delivered}/claim")

    answer = post_json(client, f"/dashboard/api/orders/{delivered}/reject", {"reason": "other", "note": "no"})

    assert answer.status_code == 400
    assert _status(client, customer, delivered) == "50"


def test_a_released_redo_goes_back_to_redo_requested(client, customer, delivered, olga):
    _reject(client, customer, delivered, Comment="fix")
    post_form(client, f"/dashboard/review/{delivered}/claim")

    post_json(client, f"/dashboard/api/orders/{delivered}/release")

    assert _status(client, customer, delivered) == "45"


def _mask_png(size=(96, 64)) -> bytes:
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    image.paste((255, 255, 255, 255), (8, 8, size[0] - 8, size[1] - 8))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.storage
def test_a_redo_travels_the_whole_way(app, client, customer, deliver, image_server, receiver, run_jobs, olga):
    (ticket,) = deliver(1, ImageCallbackURL=receiver.url(), CustomerImageId="sku-redo")
    first_url = status_of(client, customer, ticket).findtext("IMAGESTATUS/FINALIMAGEURL")
    markup = image_server.serve_bytes("/callouts.png", encode("PNG", (96, 64)), "image/png")

    # The customer sends it back with a comment and a markup image.
    assert error_code(_reject(client, customer, ticket, Comment="Strap cut off", MarkupImageURL=markup)) == "noError"
    run_jobs()
    # It is the first thing an operator gets, with the comment and the markup.
    assert post_form(client, "/dashboard/claim-next").headers["Location"].endswith(ticket)
    page = client.get(f"/dashboard/review/{ticket}").get_data(as_text=True)
    assert "Strap cut off" in page and 'id="markup"' in page
    # The operator edits the last delivered mask into a new version and approves.
    saved = client.post(f"/dashboard/api/orders/{ticket}/mask", data=_mask_png(), content_type="image/png",
                        headers={"X-CSRFToken": csrf_token(client, "/dashboard/")})
    assert saved.status_code == 200
    assert post_json(client, f"/dashboard/api/orders/{ticket}/approve").status_code == 200
    run_jobs()

    # Delivered again: a new final, the old one still downloadable, a second callback with a new id.
    status = status_of(client, customer, ticket).find("IMAGESTATUS")
    second_url = status.findtext("FINALIMAGEURL")
    assert status.findtext("STATUSID") == "80" and second_url and second_url != first_url
    assert client.get(urlsplit(first_url).path).status_code == 200
    assert client.get(urlsplit(second_url).path).status_code == 200
    delivered_calls = [c for c in receiver.received if c.form["StatusId"] == "80"]
    assert [c.form["ProcessedImageURL"] for c in delivered_calls] == [first_url, second_url]
    assert len({c.headers["webhook-id"] for c in delivered_calls}) == 2
    order = _order(app, ticket)
    assert [d.number for d in order.deliveries] == [1, 2]
    assert order.deliveries[1].mask_version > order.deliveries[0].mask_version
    assert [e.to_status for e in order.events].count(80) == 2


def test_a_redo_is_not_billed_again(app, client, customer, deliver, run_jobs, olga):
    from datetime import UTC, datetime

    (ticket,) = deliver(1)
    _reject(client, customer, ticket, Comment="again")
    post_form(client, "/dashboard/claim-next")
    post_json(client, f"/dashboard/api/orders/{ticket}/approve")
    run_jobs()

    month = datetime.now(UTC).strftime("%Y-%m")
    doc = parse_valid(client.get(f"/REST.svc/Statement/{month}/", query_string=customer.creds()))
    assert [line.findtext("IMAGETICKET") for line in doc.iterfind("LINES/LINE")] == [ticket]


def test_soap_sends_an_order_back_as_rest_does(client, zeep_client, customer, delivered):
    answer = zeep_client.service.RejectProcessedImage(customer.email, customer.api_key, delivered, "fix the edge")

    assert answer.ErrorCode == "noError"
    assert (answer.Redo.StatusId, answer.Redo.RedoNumber, answer.Redo.Markup) == (45, 1, "none")
    rest = parse_valid(_reject(client, customer, delivered, Comment="again"))
    soap = zeep_client.service.RejectProcessedImage(customer.email, customer.api_key, delivered, "again")
    assert (soap.ErrorCode, soap.Message) == (rest.findtext("ERRORCODE"), rest.findtext("message"))


def test_a_markup_asked_for_while_redis_was_down_is_fetched_by_the_sweep(app, client, customer, delivered,
                                                                         image_server, run_jobs):
    from workers.sweep import sweep

    url = image_server.serve_bytes("/late-markup.png", encode("PNG", (96, 64)), "image/png")
    real_redis = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # Redis "down" while the redo comes in
    assert error_code(_reject(client, customer, delivered, Comment="see markup", MarkupImageURL=url)) == "noError"
    app.config["REDIS_URL"] = real_redis
    run_jobs()
    assert _markup_state(app, delivered)[0] == "pending"

    with app.app_context():
        from infrastructure.extensions import db
        from orders.models import RedoRequest

        for request in db.session.scalars(db.select(RedoRequest)):
            request.requested_at -= timedelta(minutes=1)  # past SWEEP_GRACE_SECONDS
        db.session.commit()
        assert sweep() == 1
    run_jobs()
    assert _markup_state(app, delivered)[0] == "available"
