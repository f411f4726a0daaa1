"""GET Images lists a customer's own orders, newest first, filtered and paged."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support.api import error_code, parse_valid, post_image, ticket_of


def _list(client, account, **params):
    return client.get("/REST.svc/Images/", query_string={**account.creds(), **params})


def _tickets(doc) -> list[str]:
    return [image.findtext("IMAGETICKET") for image in doc.iterfind("IMAGES/IMAGE")]


def _set(app, ticket: str, **columns) -> None:
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        db.session.execute(db.update(Order).where(Order.ticket == ticket).values(**columns))
        db.session.commit()


@pytest.fixture
def three_orders(client, customer, template_id) -> list[str]:
    """Three orders, oldest first."""
    return [ticket_of(post_image(client, customer, templateId=template_id, CustomerImageId=f"sku-{n}"))
            for n in range(3)]


def test_a_customer_sees_its_orders_newest_first(client, customer, three_orders):
    doc = parse_valid(_list(client, customer))

    assert doc.findtext("ERRORCODE") == "noError"
    assert _tickets(doc) == three_orders[::-1]
    assert (doc.findtext("TOTAL"), doc.findtext("PAGE"), doc.findtext("PERPAGE")) == ("3", "1", "100")


def test_each_listed_order_carries_its_reference_status_and_times(client, customer, three_orders):
    image = parse_valid(_list(client, customer)).find("IMAGES/IMAGE")

    assert image.findtext("CUSTOMERIMAGEID") == "sku-2"
    assert (image.findtext("STATUSID"), image.findtext("STATUSNAME")) == ("10", "Received")
    created, due = (datetime.strptime(image.findtext(n), "%Y-%m-%dT%H:%M:%SZ") for n in ("CREATED", "DUE"))
    assert due - created == timedelta(hours=24)
    assert image.findtext("FINALIMAGEURL") == ""


def test_another_customer_s_orders_are_never_listed(client, make_customer, customer, three_orders):
    other = make_customer("other@example.com")

    doc = parse_valid(_list(client, other))

    assert doc.findtext("TOTAL") == "0" and _tickets(doc) == []


def test_pages_split_the_list_and_total_counts_all(client, customer, three_orders):
    first = parse_valid(_list(client, customer, PerPage=2))
    second = parse_valid(_list(client, customer, PerPage=2, Page=2))

    assert _tickets(first) + _tickets(second) == three_orders[::-1]
    assert first.findtext("TOTAL") == second.findtext("TOTAL") == "3"


def test_a_page_past_the_end_is_empty(client, customer, three_orders):
    doc = parse_valid(_list(client, customer, Page=9))

    assert doc.findtext("ERRORCODE") == "noError" and _tickets(doc) == []


def test_status_filter_takes_a_comma_list(app, client, customer, three_orders):
    _set(app, three_orders[0], status=90)
    _set(app, three_orders[1], status=80)

    doc = parse_valid(_list(client, customer, StatusId="80,90"))

    assert _tickets(doc) == [three_orders[1], three_orders[0]]


def test_customer_image_id_finds_the_customer_s_own_reference(client, customer, three_orders):
    doc = parse_valid(_list(client, customer, CustomerImageId="sku-1"))

    assert _tickets(doc) == [three_orders[1]]


def test_from_and_to_bound_the_creation_time(app, client, customer, three_orders):
    for days, ticket in zip((3, 2, 1), three_orders, strict=True):
        _set(app, ticket, created_at=datetime(2026, 11, 10) - timedelta(days=days))

    doc = parse_valid(_list(client, customer, From="2026-11-08", To="2026-11-08"))
    assert _tickets(doc) == [three_orders[1]]
    doc = parse_valid(_list(client, customer, From="2026-11-08T00:00:00Z"))
    assert _tickets(doc) == [three_orders[2], three_orders[1]]
    doc = parse_valid(_list(client, customer, To="2026-11-08T01:00:00+02:00"))  # 2026-11-07T23:00Z
    assert _tickets(doc) == [three_orders[0]]


def test_json_lists_images_as_an_array(client, customer, three_orders):
    answer = client.get("/REST.svc/Images/", query_string=customer.creds(), headers={"Accept": "application/json"})

    body = answer.get_json()
    assert [image["IMAGETICKET"] for image in body["IMAGES"]] == three_orders[::-1]
    assert body["TOTAL"] == 3


BAD_PARAMETERS = [
    ("page zero", {"Page": "0"}),
    ("page not a number", {"Page": "two"}),
    ("per page zero", {"PerPage": "0"}),
    ("per page over 500", {"PerPage": "501"}),
    ("per page negative", {"PerPage": "-5"}),
    ("unknown status", {"StatusId": "33"}),
    ("status not a number", {"StatusId": "80,x"}),
    ("malformed date", {"From": "2026-02-30"}),
    ("not a date", {"To": "yesterday"}),
    ("from after to", {"From": "2026-11-09", "To": "2026-11-08"}),
    ("over-long reference", {"CustomerImageId": "x" * 101}),
]


@pytest.mark.parametrize("case, params", BAD_PARAMETERS, ids=[c[0] for c in BAD_PARAMETERS])
def test_bad_list_parameters_are_invalid_parameter(client, customer, case, params):
    answer = _list(client, customer, **params)

    assert answer.status_code == 400 and error_code(answer) == "invalidParameter"


def test_listing_needs_the_right_key(client, customer):
    answer = client.get("/REST.svc/Images/", query_string={"ContactEmail": customer.email, "ContactAPIkey": "no"})

    assert answer.status_code == 401 and error_code(answer) == "invalidCredentials"


def test_total_is_kept_a_few_seconds_per_filter(app, client, customer, template_id, three_orders):
    assert parse_valid(_list(client, customer)).findtext("TOTAL") == "3"
    ticket_of(post_image(client, customer, templateId=template_id))

    doc = parse_valid(_list(client, customer))

    assert doc.findtext("TOTAL") == "3"  # kept for LIST_TOTAL_CACHE_SECONDS
    assert len(_tickets(doc)) == 4  # the page itself is always fresh
    assert parse_valid(_list(client, customer, StatusId="10")).findtext("TOTAL") == "4"  # another filter


def test_without_the_cache_total_is_counted_every_call(app, client, customer, template_id, three_orders):
    app.config["LIST_TOTAL_CACHE_SECONDS"] = 0
    _list(client, customer)
    ticket_of(post_image(client, customer, templateId=template_id))

    assert parse_valid(_list(client, customer)).findtext("TOTAL") == "4"


def test_listing_works_while_redis_is_down(app, client, customer, three_orders):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"

    doc = parse_valid(_list(client, customer))

    assert doc.findtext("TOTAL") == "3" and len(_tickets(doc)) == 3
