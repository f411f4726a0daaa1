"""GET /REST.svc/Image/Status/{ticket}/ — polling an order."""
import uuid

from tests.support.api import error_code, parse_valid, post_image, status_of, ticket_of


def test_new_order_is_received_with_an_empty_final_url(client, customer, template_id):
    ticket = ticket_of(post_image(client, customer, templateId=template_id))

    doc = status_of(client, customer, ticket)

    assert doc.findtext("ERRORCODE") == "noError"
    status = doc.find("IMAGESTATUS")
    assert [c.tag for c in status] == ["FINALIMAGEURL", "IMAGETICKET", "STATUSID", "STATUSNAME",
                                      "CUSTOMERIMAGEID"]
    assert status.findtext("FINALIMAGEURL") == ""
    assert status.findtext("IMAGETICKET") == ticket
    assert (status.findtext("STATUSID"), status.findtext("STATUSNAME")) == ("10", "Received")


def test_status_as_json(client, customer, template_id):
    ticket = ticket_of(post_image(client, customer, templateId=template_id))
    response = client.get(f"/REST.svc/Image/Status/{ticket}/", query_string=customer.creds(),
                          headers={"Accept": "application/json"})
    assert response.get_json()["IMAGESTATUS"] == {
        "FINALIMAGEURL": "", "IMAGETICKET": ticket, "STATUSID": 10, "STATUSNAME": "Received", "CUSTOMERIMAGEID": ""
    }


def test_unknown_ticket_is_404(client, customer):
    response = client.get(f"/REST.svc/Image/Status/{uuid.uuid4()}/", query_string=customer.creds())

    assert response.status_code == 404
    assert error_code(response) == "unknownTicket"


def test_foreign_ticket_answers_exactly_like_an_unknown_one(client, make_customer, template_id):
    owner, other = make_customer("owner@example.com"), make_customer("other@example.com")
    ticket = ticket_of(post_image(client, owner, templateId=template_id))
    unknown = str(uuid.uuid4())

    foreign = client.get(f"/REST.svc/Image/Status/{ticket}/", query_string=other.creds())
    missing = client.get(f"/REST.svc/Image/Status/{unknown}/", query_string=other.creds())

    assert foreign.status_code == missing.status_code == 404
    assert foreign.data.replace(ticket.encode(), b"T") == missing.data.replace(unknown.encode(), b"T")


def test_status_needs_credentials(client, customer, template_id):
    ticket = ticket_of(post_image(client, customer, templateId=template_id))
    response = client.get(f"/REST.svc/Image/Status/{ticket}/")
    assert response.status_code == 400 and error_code(response) == "missingParameter"


def test_failed_order_shows_its_reason_in_message(app, client, customer, template_id):
    from infrastructure.extensions import db
    from orders import lifecycle
    from orders.codes import FailureReason
    from orders.models import Order

    ticket = ticket_of(post_image(client, customer, templateId=template_id))
    with app.app_context():
        order_id = db.session.scalar(db.select(Order.id).where(Order.ticket == ticket))
        lifecycle.fail(order_id, FailureReason.NOT_AN_IMAGE, "the file is text", actor="test")
        db.session.commit()

    doc = status_of(client, customer, ticket)
    assert doc.findtext("IMAGESTATUS/STATUSNAME") == "Failed"
    assert doc.findtext("message") == "notAnImage: the file is text"


def test_unknown_api_path_answers_in_the_envelope(client):
    response = client.get("/REST.svc/Nothing/")
    assert response.status_code == 404
    assert parse_valid(response).tag == "ERRORRESPONSE"


def test_wrong_method_answers_in_the_envelope(client):
    response = client.delete("/REST.svc/Templates/")
    assert response.status_code == 405
    assert error_code(response) == "methodNotAllowed"


def test_the_customers_own_reference_comes_back_in_xml_exactly_as_sent(client, customer, template_id):
    reference = "Bäder & <Söhne> \"no. 5\" ]]> 😀"
    ticket = ticket_of(post_image(client, customer, templateId=template_id, CustomerImageId=reference))

    assert status_of(client, customer, ticket).findtext("IMAGESTATUS/CUSTOMERIMAGEID") == reference
