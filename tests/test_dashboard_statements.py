"""The admin's monthly statements per customer, with CSV download; test orders flagged; instructions shown."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.support.dashboard import post_form, sign_in


@pytest.fixture
def ada(client, make_operator):
    make_operator("ada", admin=True)
    sign_in(client, "ada")
    return "ada"


def _customer_id(app, email: str) -> int:
    from infrastructure.extensions import db
    from orders.models import Customer

    with app.app_context():
        return db.session.scalar(db.select(Customer.id).where(Customer.email == email))


def _month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def test_the_statement_page_lists_the_month_s_billed_orders_and_total(app, client, customer, deliver, ada):
    tickets = deliver(2, CustomerImageId="sku-8")

    page = client.get(f"/dashboard/admin/customers/{_customer_id(app, customer.email)}/statements")

    text = page.get_data(as_text=True)
    assert page.status_code == 200 and all(t in text for t in tickets)
    assert "sku-8" in text and "1.90 USD" in text


def test_the_statement_downloads_as_csv(app, client, customer, deliver, ada):
    tickets = deliver(1)

    answer = client.get(f"/dashboard/admin/customers/{_customer_id(app, customer.email)}/statements/{_month()}.csv")

    assert answer.mimetype == "text/csv" and "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert [r[1] for r in rows[1:]] == tickets


def test_a_malformed_month_on_the_statement_page_is_refused(app, client, customer, ada):
    answer = client.get(f"/dashboard/admin/customers/{_customer_id(app, customer.email)}/statements?month=2026-13")

    assert answer.status_code == 400


def test_statements_are_for_admins_only(app, client, customer, make_operator):
    make_operator("olga")
    sign_in(client, "olga")

    answer = client.get(f"/dashboard/admin/customers/{_customer_id(app, customer.email)}/statements")

    assert answer.status_code == 403


def test_a_test_order_is_flagged_on_the_customer_s_page(app, client, customer, template_id, ada):
    from tests.support.api import post_image, ticket_of

    ticket_of(post_image(client, customer, templateId=template_id, Test="1"))

    page = client.get(f"/dashboard/admin/customers/{_customer_id(app, customer.email)}").get_data(as_text=True)

    assert 'class="badge test"' in page


def test_the_review_page_shows_the_customer_s_instructions_as_text(client, reviewable, make_operator):
    make_operator("olga")
    sign_in(client, "olga")
    (ticket,) = reviewable(1, Instructions="Keep the hanger.\n<script>alert(1)</script>")
    post_form(client, f"/dashboard/review/{ticket}/claim")

    page = client.get(f"/dashboard/review/{ticket}").get_data(as_text=True)

    assert "Keep the hanger." in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
