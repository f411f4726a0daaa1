"""The operator's pages: the queue with its filters and count, claiming, the review page, images, bulk approval."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from tests.support.dashboard import post_form, sign_in


@pytest.fixture
def olga(client, make_operator):
    make_operator()
    sign_in(client, "olga")
    return "olga"


def _set(app, ticket, **fields):
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        for name, value in fields.items():
            setattr(order, name, value)
        db.session.commit()


def _status(app, ticket) -> int:
    from orders.lookups import order_by_ticket

    with app.app_context():
        return order_by_ticket(ticket).status


def test_the_queue_lists_each_order_with_customer_template_time_left_and_confidence(client, reviewable, olga):
    ticket = reviewable(1)[0]

    page = client.get("/dashboard/").get_data(as_text=True)

    assert f'data-ticket="{ticket}"' in page
    assert "shop@example.com" in page and "Transparent PNG" in page
    assert "23 h 59 min" in page and "100 %" in page
    assert f"/dashboard/files/{ticket}/preview?size=160" in page


def test_an_overdue_order_shows_in_red(app, client, reviewable, olga):
    from orders.models import utcnow

    ticket = reviewable(1)[0]
    _set(app, ticket, due_at=utcnow() - timedelta(minutes=30))

    page = client.get("/dashboard/").get_data(as_text=True)

    assert 'class="time-left overdue"' in page and "overdue 30 min" in page


def test_the_queue_filters_by_customer(app, client, reviewable, make_customer, olga):
    from orders import customers

    ticket = reviewable(1)[0]
    with app.app_context():
        other, _key = customers.create_customer("other@example.com")
        other_id = other.id

    assert ticket not in client.get(f"/dashboard/?customer={other_id}").get_data(as_text=True)
    assert ticket in client.get("/dashboard/?customer=").get_data(as_text=True)


def test_the_queue_filters_by_template(client, reviewable, make_template, olga):
    ticket = reviewable(1)[0]
    other = make_template("Jpeg white")

    assert ticket not in client.get(f"/dashboard/?template={other}").get_data(as_text=True)


def test_the_queue_filters_by_due_window(app, client, reviewable, olga):
    from orders.models import utcnow

    soon, later = reviewable(2)
    _set(app, soon, due_at=utcnow() + timedelta(minutes=30))

    page = client.get("/dashboard/?due=1").get_data(as_text=True)

    assert soon in page and later not in page


def test_the_count_endpoint_follows_the_filters(app, client, reviewable, olga):
    from orders.models import utcnow

    soon, _later = reviewable(2)
    _set(app, soon, due_at=utcnow() - timedelta(minutes=1))

    assert client.get("/dashboard/api/queue/count").json == {"count": 2}
    assert client.get("/dashboard/api/queue/count?due=0").json == {"count": 1}


def test_claim_next_opens_the_review_page_of_the_order_it_took(app, client, reviewable, olga):
    ticket = reviewable(1)[0]

    response = post_form(client, "/dashboard/claim-next")

    assert response.headers["Location"] == f"/dashboard/review/{ticket}"
    assert _status(app, ticket) == 50


def test_claim_next_on_an_empty_queue_says_so(client, olga):
    response = post_form(client, "/dashboard/claim-next", follow_redirects=True)

    assert "Nothing is waiting for review" in response.get_data(as_text=True)


def test_the_review_page_carries_what_the_editor_needs(client, reviewable, olga):
    tickets = reviewable(2)
    held = post_form(client, "/dashboard/claim-next").headers["Location"].rsplit("/", 1)[-1]
    upcoming = next(t for t in tickets if t != held)

    page = client.get(f"/dashboard/review/{held}").get_data(as_text=True)

    assert 'data-width="96" data-height="64"' in page and 'data-mask-version="0"' in page
    assert f'data-files="/dashboard/files/{held}/"' in page and f'data-api="/dashboard/api/orders/{held}/"' in page
    assert f'data-next-files="/dashboard/files/{upcoming}/"' in page
    assert "Not a product photo" in page and "review/main.js" in page


def test_the_review_page_of_an_order_someone_else_holds_says_who(app, client, reviewable, make_operator, olga):
    from orders import operators, review

    ticket = reviewable(1)[0]
    make_operator("piet")
    with app.app_context():
        review.claim(operators.operator_by_name("piet"), ticket)

    response = client.get(f"/dashboard/review/{ticket}")

    assert response.status_code == 409
    assert "being reviewed by piet" in response.get_data(as_text=True)


def test_opening_an_order_from_the_queue_claims_it(app, client, reviewable, olga):
    ticket = reviewable(1)[0]

    response = post_form(client, f"/dashboard/review/{ticket}/claim")

    assert response.headers["Location"] == f"/dashboard/review/{ticket}"
    assert _status(app, ticket) == 50


def test_an_unknown_ticket_is_404(client, olga):
    assert client.get("/dashboard/review/00000000-0000-0000-0000-000000000000").status_code == 404


@pytest.mark.storage
def test_images_are_served_scaled_and_cached_in_the_store(app, client, reviewable, olga):
    ticket = reviewable(1)[0]

    response = client.get(f"/dashboard/files/{ticket}/original?size=40")

    with Image.open(io.BytesIO(response.data)) as image:
        assert image.size == (96, 64)  # snapped up to the smallest cached size, never enlarged
    response = client.get(f"/dashboard/files/{ticket}/mask/0?size=0&alpha=1")
    with Image.open(io.BytesIO(response.data)) as mask:
        assert mask.mode == "LA" and mask.getpixel((48, 20)) == (255, 255) and mask.getpixel((5, 5))[1] == 0
    from infrastructure import storage

    with app.app_context():
        cached = [key for key in storage.current().keys("cache/") if key.endswith(".full.alpha.png")]
    assert len(cached) == 1
    assert "private" in response.headers["Cache-Control"]


def test_a_large_original_is_scaled_down_for_the_screen(app, client, reviewable, olga):
    from infrastructure import storage
    from orders.previews import Kind, order_file

    ticket = reviewable(1)[0]
    with app.app_context():
        buffer = io.BytesIO()
        Image.new("RGB", (3000, 2000), "red").save(buffer, "PNG")
        storage.write_bytes(order_file(ticket, Kind.ORIGINAL), buffer.getvalue())

    response = client.get(f"/dashboard/files/{ticket}/original?size=1000")

    with Image.open(io.BytesIO(response.data)) as image:
        assert image.size == (1280, 853)


def test_a_mask_image_needs_its_version_number(client, reviewable, olga):
    ticket = reviewable(1)[0]

    assert client.get(f"/dashboard/files/{ticket}/mask").status_code == 404
    assert client.get(f"/dashboard/files/{ticket}/mask/7").status_code == 404
    assert client.get(f"/dashboard/files/{ticket}/secrets").status_code == 404


def test_the_bulk_page_shows_confident_drafts_only(app, client, reviewable, olga):
    sure, unsure = reviewable(2)
    _set(app, unsure, draft_confidence=0.5)

    page = client.get("/dashboard/bulk?min=0.9").get_data(as_text=True)

    assert f'value="{sure}"' in page and f'value="{unsure}"' not in page


def test_bulk_approve_approves_the_selected_drafts(app, client, reviewable, olga):
    first, second, untouched = reviewable(3)

    response = post_form(client, "/dashboard/bulk", {"ticket": [first, second]}, follow_redirects=True)

    assert "Approved 2 orders" in response.get_data(as_text=True)
    assert [_status(app, t) for t in (first, second, untouched)] == [60, 60, 40]
