"""POST /REST.svc/Image/ — placing an order."""
from decimal import Decimal

import pytest

from tests.support.api import error_code, parse_valid, post_image, ticket_of


def _order(app, ticket):
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        db.session.expunge_all()
        return order


def _order_count(app) -> int:
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Order))


def test_answers_a_ticket_for_the_reference_payload(client, customer, template_id):
    body = {
        "ContactEmail": customer.email,
        "ContactAPIkey": customer.api_key,
        "developerAPIkey": customer.api_key,
        "templateId": str(template_id),
        "ImageURL": "http://www.mydomain.com/myimage.jpg",
        "ImageURL2": "",
        "ImageRequestedDeliveryTimeInHours": "24",
        "ImageCallbackURL": "http://www.mydomain.com/callback-url.php",
    }
    response = client.post("/REST.svc/Image/", json=body)

    assert response.status_code == 200
    doc = parse_valid(response)
    assert [c.tag for c in doc] == ["ERRORCODE", "message", "IMAGETICKET"]
    assert len(doc.findtext("IMAGETICKET")) == 36


def test_order_keeps_the_customer_s_reference_product_and_instructions(app, client, customer, template_id):
    ticket = ticket_of(post_image(client, customer, templateId=template_id, CustomerImageId="sku-17",
                                  ProductId="shirt-blue", Instructions="Keep the hanger.\nRemove the tag."))

    order = _order(app, ticket)
    assert (order.customer_image_id, order.product_id, order.instructions) == (
        "sku-17", "shirt-blue", "Keep the hanger.\nRemove the tag.")


def test_status_returns_the_customer_image_id(client, customer, template_id):
    ticket = ticket_of(post_image(client, customer, templateId=template_id, CustomerImageId="sku-17"))

    status = parse_valid(client.get(f"/REST.svc/Image/Status/{ticket}/", query_string=customer.creds()))

    assert status.findtext("IMAGESTATUS/CUSTOMERIMAGEID") == "sku-17"


def test_fields_at_their_longest_are_accepted(app, client, customer, template_id):
    ticket = ticket_of(post_image(client, customer, templateId=template_id, CustomerImageId="c" * 100,
                                  ProductId="p" * 100, Instructions="i" * 2000))

    assert len(_order(app, ticket).instructions) == 2000


def test_order_keeps_template_price_and_due_time(app, client, customer, make_template):
    template = make_template(price="3.10", currency_id=2, delivery_hours=48)
    order = _order(app, ticket_of(post_image(client, customer, templateId=template)))

    assert order.template_id == template
    assert order.price_amount == Decimal("3.10") and order.currency_id == 2
    assert order.delivery_hours == 48
    assert abs((order.due_at - order.created_at).total_seconds() - 48 * 3600) < 1


def test_requested_hours_override_the_template(app, client, customer, template_id):
    order = _order(app, ticket_of(post_image(client, customer, templateId=template_id,
                                             ImageRequestedDeliveryTimeInHours="6")))
    assert order.delivery_hours == 6


def test_numbers_in_json_are_accepted(app, client, customer, template_id):
    order = _order(app, ticket_of(post_image(client, customer, templateId=template_id,
                                             ImageRequestedDeliveryTimeInHours=2)))
    assert order.delivery_hours == 2


def test_empty_template_id_uses_the_customers_default(app, client, customer, make_template):
    from orders import customers

    make_template(name="First")
    favourite = make_template(name="Favourite")
    with app.app_context():
        customers.set_default_template(customer.email, favourite)

    order = _order(app, ticket_of(post_image(client, customer, templateId="")))
    assert order.template_id == favourite


def test_an_inactive_default_template_gives_way_to_the_first_active_one(app, client, customer, make_template):
    from orders import customers, templates

    first = make_template(name="First")
    favourite = make_template(name="Favourite")
    with app.app_context():
        customers.set_default_template(customer.email, favourite)
        templates.set_template_active(favourite, False)

    order = _order(app, ticket_of(post_image(client, customer, templateId="")))
    assert order.template_id == first


def test_an_unknown_template_is_refused_even_when_the_customer_has_a_default(app, client, customer, make_template):
    from orders import customers

    with app.app_context():
        customers.set_default_template(customer.email, make_template(name="Favourite"))

    response = post_image(client, customer, templateId="9999999")
    assert error_code(response) == "unknownTemplate"
    assert _order_count(app) == 0


def test_field_names_match_case_insensitively(client, customer, template_id):
    body = {"contactemail": customer.email, "CONTACTAPIKEY": customer.api_key, "imageurl": "https://a.example/b.png",
            "DeveloperAPIkey": customer.api_key, "TEMPLATEID": template_id}
    assert error_code(client.post("/REST.svc/Image/", json=body)) == "noError"


def test_html_form_post_is_accepted(client, customer, template_id):
    form = {**customer.creds(), "ImageURL": "https://a.example/b.png", "templateId": str(template_id)}
    assert error_code(client.post("/REST.svc/Image/", data=form)) == "noError"


def test_developer_key_records_the_commission(app, client, make_customer, template_id):
    shop = make_customer("shop@example.com")
    partner = make_customer("partner@example.com", developer=True, commission_pct="12.5")

    order = _order(app, ticket_of(post_image(client, shop, templateId=template_id, developerAPIkey=partner.api_key)))

    assert order.developer_id is not None
    assert order.commission_amount == Decimal("0.12")  # 12.5 % of 0.95, rounded half up


def test_own_key_as_developer_key_earns_no_commission(app, client, customer, template_id):
    order = _order(app, ticket_of(post_image(client, customer, templateId=template_id,
                                             developerAPIkey=customer.api_key)))
    assert order.developer_id is None and order.commission_amount is None


def test_unknown_developer_key_is_refused(client, customer, template_id):
    response = post_image(client, customer, templateId=template_id, developerAPIkey="0000")
    assert response.status_code == 401
    assert error_code(response) == "invalidCredentials"


def test_order_history_starts_with_received(app, client, customer, template_id):
    from infrastructure.extensions import db
    from orders.models import Order

    ticket = ticket_of(post_image(client, customer, templateId=template_id))
    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        assert [(e.from_status, e.to_status, e.actor)
                for e in order.events] == [(None, 10, f"customer:{customer.email}")]


def test_order_is_queued_for_the_fetch_worker(app, client, customer, template_id):
    from infrastructure.queues import fetch_job_id, queue

    ticket = ticket_of(post_image(client, customer, templateId=template_id))
    order = _order(app, ticket)
    with app.app_context():
        assert fetch_job_id(order.id) in queue("fetch").job_ids


def test_order_is_kept_when_redis_is_down(app, client, customer, template_id):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = post_image(client, customer, templateId=template_id)

    assert response.status_code == 200
    assert _order(app, ticket_of(response)).status == 10


# --- bad input: a clear error, and nothing written -------------------------------------

BAD_REQUESTS = [
    ("wrong key", {"ContactAPIkey": "0e0e0e0e-0000-4000-8000-000000000000"}, 401, "invalidCredentials"),
    ("wrong key and a malformed template", {"ContactAPIkey": "0e0e0e0e-0000-4000-8000-000000000000",
                                            "templateId": "abc"}, 401, "invalidCredentials"),
    ("missing image URL", {"ImageURL": ""}, 400, "missingParameter"),
    ("ftp URL", {"ImageURL": "ftp://files.example/a.jpg"}, 400, "invalidParameter"),
    ("javascript URL", {"ImageURL": "javascript:alert(1)"}, 400, "invalidParameter"),
    ("file URL", {"ImageURL": "file:///etc/passwd"}, 400, "invalidParameter"),
    ("URL without host", {"ImageURL": "http:///a.jpg"}, 400, "invalidParameter"),
    ("URL with a space", {"ImageURL": "http://a.example/a b.jpg"}, 400, "invalidParameter"),
    ("bad second URL", {"ImageURL2": "gopher://x"}, 400, "invalidParameter"),
    ("bad callback URL", {"ImageCallbackURL": "mailto:me@example.com"}, 400, "invalidParameter"),
    ("negative hours", {"ImageRequestedDeliveryTimeInHours": "-5"}, 400, "invalidParameter"),
    ("zero hours", {"ImageRequestedDeliveryTimeInHours": "0"}, 400, "invalidParameter"),
    ("too many hours", {"ImageRequestedDeliveryTimeInHours": "721"}, 400, "invalidParameter"),
    ("fractional hours", {"ImageRequestedDeliveryTimeInHours": "1.5"}, 400, "invalidParameter"),
    ("non-numeric template", {"templateId": "abc"}, 400, "invalidParameter"),
    ("unknown template", {"templateId": "9999999"}, 404, "unknownTemplate"),
    ("template id past any id", {"templateId": "999999999999"}, 404, "unknownTemplate"),
    ("template id of 13 digits", {"templateId": "9999999999999"}, 400, "invalidParameter"),
    ("object as value", {"ImageURL": {"url": "http://a.example/a.jpg"}}, 400, "invalidParameter"),
    ("over-long CustomerImageId", {"CustomerImageId": "x" * 101}, 400, "invalidParameter"),
    ("over-long ProductId", {"ProductId": "x" * 101}, 400, "invalidParameter"),
    ("over-long Instructions", {"Instructions": "x" * 2001}, 400, "invalidParameter"),
    ("over-long IdempotencyKey", {"IdempotencyKey": "x" * 256}, 400, "invalidParameter"),
    ("line break in CustomerImageId", {"CustomerImageId": "a\nb"}, 400, "invalidParameter"),
    ("control character in Instructions", {"Instructions": "cut\x00here"}, 400, "invalidParameter"),
]


@pytest.mark.parametrize("case, fields, status, code", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_bad_order_is_refused_and_nothing_is_written(app, client, customer, template_id, case, fields, status, code):
    response = post_image(client, customer, **{"templateId": template_id, **fields})

    assert response.status_code == status
    assert error_code(response) == code
    assert _order_count(app) == 0


def test_disabled_customer_cannot_order(app, client, customer, template_id):
    from orders import customers

    with app.app_context():
        customers.set_customer_active(customer.email, False)
    response = post_image(client, customer, templateId=template_id)
    assert response.status_code == 401 and _order_count(app) == 0


def test_malformed_json_is_refused(app, client):
    response = client.post("/REST.svc/Image/", data='{"ContactEmail": ', content_type="application/json")

    assert response.status_code == 400
    doc = parse_valid(response)
    assert doc.findtext("ERRORCODE") == "invalidParameter"
    assert "JSON" in doc.findtext("message")


def test_json_that_is_not_an_object_is_refused(client):
    response = client.post("/REST.svc/Image/", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400 and error_code(response) == "invalidParameter"


def test_xml_body_is_unsupported(app, client):
    response = client.post("/REST.svc/Image/", data="<image/>", content_type="application/xml")

    assert response.status_code == 415
    assert error_code(response) == "unsupportedMediaType"


def test_plain_text_body_is_unsupported(client):
    response = client.post("/REST.svc/Image/", data="ImageURL=http://x", content_type="text/plain")
    assert response.status_code == 415


def test_body_over_the_limit_is_refused_before_it_is_read(app, client, customer, template_id):
    padding = "x" * (app.config["MAX_REQUEST_BYTES"] + 1)
    response = post_image(client, customer, templateId=template_id, ImageURL2="http://a.example/" + padding)

    assert response.status_code == 413
    assert error_code(response) == "requestTooLarge"
    assert _order_count(app) == 0


def test_service_answers_after_bad_requests(client, customer, template_id):
    client.post("/REST.svc/Image/", data="{", content_type="application/json")
    client.post("/REST.svc/Image/", data="<x/>", content_type="application/xml")
    assert error_code(post_image(client, customer, templateId=template_id)) == "noError"
