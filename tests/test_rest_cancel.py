"""Cancel (DELETE Image, or POST …/Cancel/) withdraws an order until an operator opens it."""
from __future__ import annotations

import uuid

import pytest

from tests.support.api import error_code, parse_valid, post_image, status_of, ticket_of


def _cancel(client, account, ticket: str, *, post: bool = False):
    if post:
        return client.post(f"/REST.svc/Image/{ticket}/Cancel/", json=account.creds())
    return client.delete(f"/REST.svc/Image/{ticket}/", query_string=account.creds())


def _set_status(app, ticket: str, status: int) -> None:
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        db.session.execute(db.update(Order).where(Order.ticket == ticket).values(status=status))
        db.session.commit()


@pytest.fixture
def ticket(client, customer, template_id) -> str:
    return ticket_of(post_image(client, customer, templateId=template_id))


def test_a_received_order_is_cancelled(client, customer, ticket):
    doc = parse_valid(_cancel(client, customer, ticket))

    assert (doc.findtext("ERRORCODE"), doc.findtext("STATUSID"), doc.findtext("STATUSNAME")) == (
        "noError", "97", "Cancelled")
    assert status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSID") == "97"


def test_clients_without_delete_cancel_with_a_post(client, customer, ticket):
    assert error_code(_cancel(client, customer, ticket, post=True)) == "noError"


@pytest.mark.parametrize("status", [20, 40])
def test_an_order_segmenting_or_awaiting_review_can_be_cancelled(app, client, customer, ticket, status):
    _set_status(app, ticket, status)

    assert error_code(_cancel(client, customer, ticket)) == "noError"


@pytest.mark.parametrize("status", [50, 60, 80, 90, 95])
def test_an_order_past_awaiting_review_is_not_cancellable_and_keeps_its_status(app, client, customer, ticket,
                                                                                status):
    _set_status(app, ticket, status)

    answer = _cancel(client, customer, ticket)

    assert answer.status_code == 409 and error_code(answer) == "notCancellable"
    assert status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSID") == str(status)


def test_cancelling_twice_is_not_cancellable(client, customer, ticket):
    _cancel(client, customer, ticket)

    answer = _cancel(client, customer, ticket)

    assert answer.status_code == 409 and error_code(answer) == "notCancellable"


def test_an_unknown_ticket_answers_as_for_status(client, customer):
    ticket = str(uuid.uuid4())

    cancelled, status = parse_valid(_cancel(client, customer, ticket)), status_of(client, customer, ticket)

    assert (cancelled.findtext("ERRORCODE"), cancelled.findtext("message")) == (
        status.findtext("ERRORCODE"), status.findtext("message")) == ("unknownTicket", f"no order has ticket {ticket}")


def test_another_customer_s_ticket_answers_like_an_unknown_one(client, make_customer, ticket):
    other = make_customer("other@example.com")

    answer = parse_valid(_cancel(client, other, ticket))

    assert (answer.findtext("ERRORCODE"), answer.findtext("message")) == ("unknownTicket",
                                                                          f"no order has ticket {ticket}")


def test_a_cancelled_order_is_never_fetched_nor_called_back(app, client, customer, template_id, image_server,
                                                            receiver, run_jobs):
    from tests.support.pictures import encode

    url = image_server.serve_bytes("/cancel.png", encode("PNG", (64, 48)), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url,
                                  ImageCallbackURL=receiver.url()))
    _cancel(client, customer, ticket)

    run_jobs()

    assert status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSID") == "97"
    assert image_server.seen("/cancel.png") == [] and receiver.received == []


def test_a_draft_finished_after_the_cancel_leaves_the_order_cancelled(app, client, customer, template_id, run_jobs,
                                                                       image_server):
    from orders.lookups import order_by_ticket
    from tests.support.pictures import encode
    from workers.fetch import fetch_order_image

    url = image_server.serve_bytes("/late.png", encode("PNG", (64, 48)), "image/png")
    late = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    with app.app_context():
        fetch_order_image(order_by_ticket(late).id)  # now Segmenting, its draft job queued
    _cancel(client, customer, late)

    run_jobs()

    assert status_of(client, customer, late).findtext("IMAGESTATUS/STATUSID") == "97"
