"""Test=1 orders: free, drafted by the model, approved by no operator, delivered with a TEST watermark."""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.support.api import error_code, post_image, status_of, ticket_of


def _order(app, ticket: str):
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        db.session.expunge(order)
        return order


@pytest.fixture
def test_order(client, customer, template_id, image_server, receiver):
    def place(**fields) -> str:
        buffer = io.BytesIO()
        Image.new("RGB", (96, 64), (128, 128, 128)).save(buffer, "PNG")  # grey: no red but the stamp's
        picture = buffer.getvalue()
        url = image_server.serve_bytes("/test-mode.png", picture, "image/png")
        return ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url, Test="1",
                                    ImageCallbackURL=receiver.url(), **fields))

    return place


def test_a_test_order_costs_nothing(app, test_order):
    order = _order(app, test_order())

    assert (order.is_test, order.price_amount, order.commission_amount) == (True, 0, None)


def test_a_test_order_is_delivered_without_an_operator_and_called_back(app, client, customer, test_order, run_jobs,
                                                                        receiver):
    ticket = test_order()

    run_jobs()

    status = status_of(client, customer, ticket).find("IMAGESTATUS")
    assert status.findtext("STATUSNAME") == "Delivered"
    assert [r.form["StatusId"] for r in receiver.received] == ["80"]
    with app.app_context():
        from orders.lookups import order_by_ticket

        actors = [e.actor for e in order_by_ticket(ticket).events]
    assert "test-mode" in actors and not any(a.startswith("operator:") for a in actors)


def test_a_test_order_s_final_image_carries_a_visible_watermark(app, client, customer, test_order, run_jobs):
    ticket = test_order()
    run_jobs()
    url = status_of(client, customer, ticket).findtext("IMAGESTATUS/FINALIMAGEURL")

    final = client.get(urlsplit(url).path)

    image = Image.open(io.BytesIO(final.data)).convert("RGBA")
    reds = sum(1 for r, g, b, a in image.get_flattened_data() if a > 60 and r > 150 and g < 120 and b < 120)
    assert reds > image.width * image.height * 0.03


def test_a_test_order_never_appears_in_the_operators_queue(app, test_order):
    from infrastructure.extensions import db
    from orders import review
    from orders.models import Order

    ticket = test_order()
    with app.app_context():
        db.session.execute(db.update(Order).where(Order.ticket == ticket).values(status=40))
        db.session.commit()
        assert [o.ticket for o in review.queue()] == []


def test_test_mode_takes_true_and_refuses_other_words(client, customer, template_id):
    assert error_code(post_image(client, customer, templateId=template_id, Test="true")) == "noError"
    answer = post_image(client, customer, templateId=template_id, Test="maybe")
    assert answer.status_code == 400 and error_code(answer) == "invalidParameter"


def test_a_test_order_is_left_out_of_the_stats(app, test_order, run_jobs):
    from orders import reports

    test_order()
    run_jobs()

    with app.app_context():
        assert sum(reports.orders_by_status().values()) == 0
        assert reports.approved_without_edit(reports.window_start(24)).approved == 0
