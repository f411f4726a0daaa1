"""An IdempotencyKey (field or Idempotency-Key header) makes a retried POST Image answer the same ticket
and buy nothing twice; the same key with other parameters is refused."""
from __future__ import annotations

import threading
from datetime import timedelta

import requests

from tests.support.api import error_code, post_image, ticket_of


def _orders(app) -> int:
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Order.id)))


def test_a_retried_post_with_the_same_key_answers_the_same_ticket(app, client, customer, template_id):
    first = ticket_of(post_image(client, customer, templateId=template_id, IdempotencyKey="order-17"))
    again = ticket_of(post_image(client, customer, templateId=template_id, IdempotencyKey="order-17"))

    assert first == again and _orders(app) == 1


def test_the_key_may_come_as_the_idempotency_key_header(app, client, customer, template_id):
    body = {**customer.creds(), "templateId": template_id, "ImageURL": "http://images.example/cat.jpg"}
    answers = [client.post("/REST.svc/Image/", json=body, headers={"Idempotency-Key": "k-1"}) for _ in range(2)]

    assert ticket_of(answers[0]) == ticket_of(answers[1]) and _orders(app) == 1


def test_the_same_key_with_other_parameters_is_a_conflict_and_creates_nothing(app, client, customer, template_id):
    ticket_of(post_image(client, customer, templateId=template_id, IdempotencyKey="k-2"))

    other = post_image(client, customer, templateId=template_id, IdempotencyKey="k-2",
                       ImageURL="http://images.example/dog.jpg")
    assert other.status_code == 409 and error_code(other) == "idempotencyConflict"
    assert _orders(app) == 1


def test_another_customer_s_key_of_the_same_name_is_their_own(app, client, make_customer, template_id):
    first, second = make_customer("a@example.com"), make_customer("b@example.com")

    one = ticket_of(post_image(client, first, templateId=template_id, IdempotencyKey="same"))
    two = ticket_of(post_image(client, second, templateId=template_id, IdempotencyKey="same"))
    assert one != two


def test_a_key_older_than_a_day_places_a_new_order(app, client, customer, template_id):
    from infrastructure.extensions import db
    from orders.models import Order

    first = ticket_of(post_image(client, customer, templateId=template_id, IdempotencyKey="k-3"))
    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == first))
        order.created_at -= timedelta(hours=24, minutes=1)
        db.session.commit()

    assert ticket_of(post_image(client, customer, templateId=template_id, IdempotencyKey="k-3")) != first
    assert _orders(app) == 2


def test_concurrent_posts_with_one_key_make_one_order(app, live_server, customer, template_id):
    body = {**customer.creds(), "templateId": template_id, "ImageURL": "http://images.example/cat.jpg",
            "IdempotencyKey": "race"}
    start, tickets = threading.Barrier(8), []

    def post() -> None:
        start.wait()
        answer = requests.post(f"{live_server.base}/REST.svc/Image/", json=body, timeout=30,
                               headers={"Accept": "application/json"})
        tickets.append(answer.json().get("IMAGETICKET") or answer.text)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(tickets) == 8 and len(set(tickets)) == 1
    assert _orders(app) == 1


def test_an_over_long_key_is_an_invalid_parameter(client, customer, template_id):
    answer = post_image(client, customer, templateId=template_id, IdempotencyKey="k" * 256)

    assert answer.status_code == 400 and error_code(answer) == "invalidParameter"


def test_soap_add_image_takes_the_key_too(app, zeep_client, customer, template_id):
    def add():
        return zeep_client.service.AddImage(ContactEmail=customer.email, ContactAPIkey=customer.api_key,
                                            TemplateId=str(template_id), ImageURL="http://images.example/a.jpg",
                                            IdempotencyKey="soap-1")

    first, again = add(), add()
    assert first.ErrorCode == "noError" and first.ImageTicket == again.ImageTicket
    assert _orders(app) == 1
