"""Customers can verify callbacks: admins see the signing secret, rotate it, and for 24 h after a
rotation callbacks carry signatures by both the old and the new secret."""
from __future__ import annotations

from datetime import timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from tests.support.api import post_image, ticket_of
from tests.support.dashboard import post_form, sign_in
from tests.support.pictures import encode


def _cli(app, *args) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output.split()[-1]


@pytest.fixture
def callback_headers(app, client, customer, template_id, image_server, receiver, run_jobs, make_operator):
    """Deliver an order with a callback URL; returns (body, signature headers) as the receiver got them."""
    make_operator("olga")

    def deliver():
        url = image_server.serve_bytes("/shirt.png", encode("PNG", (64, 48)), "image/png")
        ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url,
                                      ImageCallbackURL=receiver.url()))
        run_jobs()
        _cli(app, "review", "approve", ticket, "--operator", "olga")
        run_jobs()
        call = receiver.received[-1]
        return call.body, {k: call.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}

    return deliver


def _customer_page(app, email: str) -> str:
    from infrastructure.extensions import db
    from orders.models import Customer

    with app.app_context():
        return f"/dashboard/admin/customers/{db.session.scalar(db.select(Customer.id).where(Customer.email == email))}"


def _verifies(secret: str, body: str, headers: dict) -> bool:
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
        return True
    except WebhookVerificationError:
        return False


def test_the_customer_s_admin_page_shows_the_signing_secret(app, client, customer, make_operator):
    make_operator(admin=True)
    sign_in(client, "olga")
    secret = _cli(app, "webhook-secret", customer.email)

    page = client.get(_customer_page(app, customer.email)).get_data(as_text=True)
    assert secret.startswith("whsec_") and secret in page


def test_rotating_from_the_admin_page_makes_a_new_secret(app, client, customer, make_operator):
    make_operator(admin=True)
    sign_in(client, "olga")
    before = _cli(app, "webhook-secret", customer.email)

    assert post_form(client, _customer_page(app, customer.email) + "/rotate-webhook-secret").status_code == 302
    assert _cli(app, "webhook-secret", customer.email) not in (before, "")


def test_after_a_rotation_callbacks_verify_with_the_old_and_the_new_secret(app, customer, callback_headers):
    old = _cli(app, "webhook-secret", customer.email)
    new = _cli(app, "rotate-webhook-secret", customer.email)

    body, headers = callback_headers()
    assert new != old
    assert _verifies(new, body, headers) and _verifies(old, body, headers)


def test_a_day_after_a_rotation_the_old_secret_no_longer_signs(app, customer, callback_headers):
    from infrastructure.extensions import db
    from orders.models import Customer

    old = _cli(app, "webhook-secret", customer.email)
    new = _cli(app, "rotate-webhook-secret", customer.email)
    with app.app_context():
        row = db.session.scalar(db.select(Customer).where(Customer.email == customer.email))
        row.webhook_secret_rotated_at -= timedelta(hours=24, minutes=1)
        db.session.commit()

    body, headers = callback_headers()
    assert _verifies(new, body, headers) and not _verifies(old, body, headers)
