"""The same inputs through REST and SOAP give the same answers: one service behind two protocols."""
import uuid

import pytest

from tests.support.api import parse_valid, post_image, status_of, ticket_of
from tests.support.soap import answer, child_text, envelope, post

IMAGE = "http://images.example/cat.jpg"


def _soap_templates(live_server, account) -> list[tuple[str, str, str, str]]:
    found = answer(post(live_server, envelope("GetTemplates", ContactEmail=account.email,
                                              ContactAPIkey=account.api_key)), "GetTemplates")
    return [
        tuple(t.findtext(f".//{{*}}{name}") for name in ("TemplateId", "TemplateName", "Amount", "CurrencyId"))
        for t in found.iterfind(".//{*}Template")
    ]


def _rest_templates(client, account) -> list[tuple[str, str, str, str]]:
    doc = parse_valid(client.get("/REST.svc/Templates/", query_string=account.creds()))
    return [
        tuple(t.findtext(name) for name in ("TEMPLATEID", "TEMPLATENAME", "PRICE/AMOUNT", "PRICE/CURRENCYID"))
        for t in doc.iterfind("TEMPLATES/TEMPLATE")
    ]


def test_both_protocols_list_the_same_templates_in_the_same_words(client, live_server, customer, make_template):
    make_template(name="T-shirts", price="0.95", currency_id=1)
    make_template(name="Shoes & bags", price="12", currency_id=4)

    rest = _rest_templates(client, customer)

    assert len(rest) == 2
    assert _soap_templates(live_server, customer) == rest


def test_a_ticket_made_over_soap_is_visible_over_rest(client, zeep_client, customer, template_id):
    ticket = zeep_client.service.AddImage(ContactEmail=customer.email, ContactAPIkey=customer.api_key,
                                          ImageURL=IMAGE).ImageTicket

    status = status_of(client, customer, ticket)

    assert status.findtext("ERRORCODE") == "noError"
    assert (status.findtext("IMAGESTATUS/IMAGETICKET"),
            status.findtext("IMAGESTATUS/STATUSNAME")) == (ticket, "Received")


def test_a_ticket_made_over_rest_is_visible_over_soap(client, zeep_client, customer, template_id):
    ticket = ticket_of(post_image(client, customer, templateId=template_id))
    rest = status_of(client, customer, ticket).find("IMAGESTATUS")

    soap = zeep_client.service.GetImageStatus(customer.email, customer.api_key, ticket)

    assert soap.ErrorCode == "noError"
    assert (soap.ImageStatus.ImageTicket, str(soap.ImageStatus.StatusId), soap.ImageStatus.StatusName) == (
        rest.findtext("IMAGETICKET"), rest.findtext("STATUSID"), rest.findtext("STATUSNAME"))


# Field names as SOAP spells them; REST matches names case-insensitively, so the same dict serves both.
SAME_MISTAKES = [
    ("wrong key", {"ContactAPIkey": "0e0e0e0e-0000-4000-8000-000000000000"}),
    ("no e-mail", {"ContactEmail": ""}),
    ("no image URL", {"ImageURL": ""}),
    ("javascript URL", {"ImageURL": "javascript:alert(1)"}),
    ("URL with a space", {"ImageURL": "http://a.example/a b.jpg"}),
    ("too many hours", {"ImageRequestedDeliveryTimeInHours": "721"}),
    ("non-numeric template", {"TemplateId": "abc"}),
    ("unknown template", {"TemplateId": "9999999"}),
    ("unknown developer key", {"DeveloperAPIkey": "0000"}),
]


@pytest.mark.parametrize("case, fields", SAME_MISTAKES, ids=[c[0] for c in SAME_MISTAKES])
def test_the_same_mistake_gets_the_same_code_and_message(client, zeep_client, customer, template_id, case, fields):
    order = {**customer.creds(), "TemplateId": str(template_id), "ImageURL": IMAGE, **fields}

    rest = parse_valid(client.post("/REST.svc/Image/", json=order))
    soap = zeep_client.service.AddImage(**order)

    assert rest.findtext("ERRORCODE") != "noError"
    assert (soap.ErrorCode, soap.Message) == (rest.findtext("ERRORCODE"), rest.findtext("message"))


def test_unknown_ticket_gets_the_same_code_and_message(client, zeep_client, customer):
    ticket = str(uuid.uuid4())
    rest = status_of(client, customer, ticket)

    soap = zeep_client.service.GetImageStatus(customer.email, customer.api_key, ticket)

    assert (soap.ErrorCode, soap.Message) == (rest.findtext("ERRORCODE"), rest.findtext("message"))


def test_wrong_key_for_templates_gets_the_same_code(client, live_server, customer):
    bad = {"ContactEmail": customer.email, "ContactAPIkey": "nope"}

    rest = parse_valid(client.get("/REST.svc/Templates/", query_string=bad))
    soap = answer(post(live_server, envelope("GetTemplates", **bad)), "GetTemplates")

    assert child_text(soap, "ErrorCode") == rest.findtext("ERRORCODE") == "invalidCredentials"


def test_both_protocols_list_the_same_images(client, zeep_client, customer, template_id):
    for n in range(3):
        ticket_of(post_image(client, customer, templateId=template_id, CustomerImageId=f"sku-{n}"))

    rest = parse_valid(client.get("/REST.svc/Images/", query_string={**customer.creds(), "PerPage": "2"}))
    soap = zeep_client.service.GetImagesList(customer.email, customer.api_key, PerPage="2").ImagesList

    assert [(i.ImageTicket, i.CustomerImageId, str(i.StatusId), i.Created.strftime("%Y-%m-%dT%H:%M:%SZ"))
            for i in soap.Images.ImageSummary] == [
        tuple(i.findtext(n) for n in ("IMAGETICKET", "CUSTOMERIMAGEID", "STATUSID", "CREATED"))
        for i in rest.iterfind("IMAGES/IMAGE")]
    assert str(soap.Total) == rest.findtext("TOTAL")


LIST_MISTAKES = [("page zero", {"Page": "0"}), ("per page 501", {"PerPage": "501"}),
                 ("from after to", {"From": "2026-11-09", "To": "2026-11-08"}), ("bad date", {"To": "2026-13-01"})]


@pytest.mark.parametrize("case, params", LIST_MISTAKES, ids=[c[0] for c in LIST_MISTAKES])
def test_the_same_list_mistake_gets_the_same_code_and_message(client, zeep_client, customer, case, params):
    rest = parse_valid(client.get("/REST.svc/Images/", query_string={**customer.creds(), **params}))
    soap = zeep_client.service.GetImagesList(customer.email, customer.api_key, **params)

    assert (soap.ErrorCode, soap.Message) == (rest.findtext("ERRORCODE"), rest.findtext("message"))


def test_cancelling_twice_gets_the_same_code_and_message(client, zeep_client, customer, template_id):
    ticket = ticket_of(post_image(client, customer, templateId=template_id))
    zeep_client.service.CancelImage(customer.email, customer.api_key, ticket)

    rest = parse_valid(client.delete(f"/REST.svc/Image/{ticket}/", query_string=customer.creds()))
    soap = zeep_client.service.CancelImage(customer.email, customer.api_key, ticket)

    assert (soap.ErrorCode, soap.Message) == (rest.findtext("ERRORCODE"), rest.findtext("message"))
    assert soap.ErrorCode == "notCancellable"
