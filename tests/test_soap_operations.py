"""The three SOAP operations through zeep, over real HTTP on loopback."""
import uuid
from decimal import Decimal

import pytest
import zeep.exceptions

OK = "noError"
IMAGE = "http://images.example/cat.jpg"


def _creds(account) -> dict[str, str]:
    return {"ContactEmail": account.email, "ContactAPIkey": account.api_key}


def _add(zeep_client, account, **fields):
    return zeep_client.service.AddImage(**{**_creds(account), "ImageURL": IMAGE, **fields})


def _order_count(app) -> int:
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Order))


def _update_order(app, ticket: str, **columns) -> None:
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        for name, value in columns.items():
            setattr(order, name, value)
        db.session.commit()


# --- GetTemplates ------------------------------------------------------------------------


def test_templates_are_listed_with_id_name_and_price(zeep_client, customer, make_template):
    first = make_template(name="T-shirts", price="0.95", currency_id=1)
    second = make_template(name="Shoes", price="12.00", currency_id=2)

    answer = zeep_client.service.GetTemplates(**_creds(customer))

    assert answer.ErrorCode == OK
    listed = [(t.TemplateId, t.TemplateName, t.Price.Amount, t.Price.CurrencyId) for t in answer.Templates.Template]
    assert listed == [(first, "T-shirts", Decimal("0.95"), 1), (second, "Shoes", Decimal("12.00"), 2)]


def test_templates_need_a_matching_key(zeep_client, customer, template_id):
    answer = zeep_client.service.GetTemplates(customer.email, "not-the-key")

    assert answer.ErrorCode == "invalidCredentials"
    assert "ContactAPIkey" in answer.Message
    assert answer.Templates is None


def test_templates_need_an_email(zeep_client, customer):
    answer = zeep_client.service.GetTemplates(ContactAPIkey=customer.api_key)
    assert (answer.ErrorCode, answer.Message) == ("missingParameter", "ContactEmail is required")


# --- AddImage ----------------------------------------------------------------------------


def test_add_image_answers_a_ticket(app, zeep_client, customer, template_id):
    answer = _add(zeep_client, customer, TemplateId=str(template_id), DeveloperAPIkey=customer.api_key,
                  ImageRequestedDeliveryTimeInHours="24", ImageCallbackURL="http://shop.example/hook")

    assert answer.ErrorCode == OK
    assert uuid.UUID(answer.ImageTicket)
    assert _order_count(app) == 1


def test_added_order_keeps_the_requested_hours(app, zeep_client, customer, template_id):
    from infrastructure.extensions import db
    from orders.models import Order

    ticket = _add(zeep_client, customer, TemplateId=str(template_id), ImageRequestedDeliveryTimeInHours="6").ImageTicket

    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        assert (order.template_id, order.delivery_hours, order.image_url) == (template_id, 6, IMAGE)


def test_add_image_without_template_uses_the_default(zeep_client, customer, template_id):
    assert _add(zeep_client, customer).ErrorCode == OK


BAD_ORDERS = [
    ("wrong key", {"ContactAPIkey": "0e0e0e0e-0000-4000-8000-000000000000"}, "invalidCredentials"),
    ("unknown developer key", {"DeveloperAPIkey": "0000"}, "invalidCredentials"),
    ("missing image URL", {"ImageURL": None}, "missingParameter"),
    ("ftp URL", {"ImageURL": "ftp://files.example/a.jpg"}, "invalidParameter"),
    ("file URL", {"ImageURL": "file:///etc/passwd"}, "invalidParameter"),
    ("bad second URL", {"ImageURL2": "gopher://x"}, "invalidParameter"),
    ("bad callback URL", {"ImageCallbackURL": "mailto:me@example.com"}, "invalidParameter"),
    ("zero hours", {"ImageRequestedDeliveryTimeInHours": "0"}, "invalidParameter"),
    ("fractional hours", {"ImageRequestedDeliveryTimeInHours": "1.5"}, "invalidParameter"),
    ("non-numeric template", {"TemplateId": "abc"}, "invalidParameter"),
    ("unknown template", {"TemplateId": "9999999"}, "unknownTemplate"),
]


@pytest.mark.parametrize("case, fields, code", BAD_ORDERS, ids=[c[0] for c in BAD_ORDERS])
def test_bad_order_answers_its_error_code_and_writes_nothing(app, zeep_client, customer, template_id,
                                                             case, fields, code):
    answer = _add(zeep_client, customer, **{"TemplateId": str(template_id), **fields})

    assert answer.ErrorCode == code
    assert answer.Message
    assert answer.ImageTicket is None
    assert _order_count(app) == 0


def test_disabled_customer_cannot_order(app, zeep_client, customer, template_id):
    from orders import customers

    with app.app_context():
        customers.set_customer_active(customer.email, False)

    assert _add(zeep_client, customer).ErrorCode == "invalidCredentials"


# --- GetImageStatus ----------------------------------------------------------------------


def test_new_order_is_received(zeep_client, customer, template_id):
    ticket = _add(zeep_client, customer).ImageTicket

    answer = zeep_client.service.GetImageStatus(**_creds(customer), ImageTicket=ticket)

    assert (answer.ErrorCode, answer.Message) == (OK, None)
    status = answer.ImageStatus
    assert (status.ImageTicket, status.StatusId,
            status.StatusName, status.FinalImageURL) == (ticket, 10, "Received", None)


def test_delivered_order_gives_its_final_image_url(app, zeep_client, customer, template_id):
    from orders.codes import Status

    ticket = _add(zeep_client, customer).ImageTicket
    _update_order(app, ticket, status=int(Status.DELIVERED), final_token="tok123", final_path="a/b/final/cat.png")

    status = zeep_client.service.GetImageStatus(**_creds(customer), ImageTicket=ticket).ImageStatus

    assert (status.StatusId, status.StatusName) == (80, "Delivered")
    assert status.FinalImageURL == f"{app.config['PUBLIC_BASE_URL']}/files/tok123/cat.png"


def test_failed_order_says_why_in_message(app, zeep_client, customer, template_id):
    from orders.codes import Status

    ticket = _add(zeep_client, customer).ImageTicket
    _update_order(app, ticket, status=int(Status.FAILED), failure_reason="notAnImage",
                  failure_message="the file is text")

    answer = zeep_client.service.GetImageStatus(**_creds(customer), ImageTicket=ticket)

    assert answer.ImageStatus.StatusName == "Failed"
    assert answer.Message == "notAnImage: the file is text"


def test_unknown_ticket_is_reported(zeep_client, customer):
    answer = zeep_client.service.GetImageStatus(**_creds(customer), ImageTicket=str(uuid.uuid4()))
    assert answer.ErrorCode == "unknownTicket" and answer.ImageStatus is None


def test_another_customers_ticket_answers_like_an_unknown_one(zeep_client, make_customer, template_id):
    owner, other = make_customer("owner@example.com"), make_customer("other@example.com")
    ticket = _add(zeep_client, owner).ImageTicket

    answer = zeep_client.service.GetImageStatus(**_creds(other), ImageTicket=ticket)

    assert answer.ErrorCode == "unknownTicket"


def test_status_needs_a_ticket(zeep_client, customer):
    answer = zeep_client.service.GetImageStatus(**_creds(customer))
    assert (answer.ErrorCode, answer.Message) == ("missingParameter", "ImageTicket is required")


def test_status_needs_a_matching_key(zeep_client, customer, template_id):
    ticket = _add(zeep_client, customer).ImageTicket
    answer = zeep_client.service.GetImageStatus(customer.email, "wrong", ticket)
    assert answer.ErrorCode == "invalidCredentials"


# --- faults --------------------------------------------------------------------------------


def test_unexpected_error_is_a_server_fault_that_tells_nothing(monkeypatch, zeep_client, customer):
    from orders import intake

    def broken(*_args):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(intake, "list_templates", broken)

    with pytest.raises(zeep.exceptions.Fault) as fault:
        zeep_client.service.GetTemplates(**_creds(customer))

    assert fault.value.code.endswith("Server")
    assert "hunter2" not in fault.value.message
    monkeypatch.undo()
    assert zeep_client.service.GetTemplates(**_creds(customer)).ErrorCode == OK
