"""GET /REST.svc/Templates/ — what an integrator sees when listing templates."""
from tests.support.api import error_code, parse_valid


def test_lists_active_templates_with_price_currency_id_and_name(client, customer, make_template):
    first = make_template(name="T-shirts", price="0.95", currency_id=1)
    second = make_template(name="Shoes", price="2.5", currency_id=2)

    doc = parse_valid(client.get("/REST.svc/Templates/", query_string=customer.creds()))

    assert doc.tag == "TEMPLATESRESPONSE"
    assert doc.findtext("ERRORCODE") == "noError"
    rows = [
        (t.findtext("TEMPLATEID"), t.findtext("TEMPLATENAME"),
         t.findtext("PRICE/AMOUNT"), t.findtext("PRICE/CURRENCYID"))
        for t in doc.findall("TEMPLATES/TEMPLATE")
    ]
    assert rows == [(str(first), "T-shirts", "0.95", "1"), (str(second), "Shoes", "2.50", "2")]


def test_elements_come_in_the_reference_order(client, customer, template_id):
    doc = parse_valid(client.get("/REST.svc/Templates/", query_string=customer.creds()))

    assert [child.tag for child in doc] == ["ERRORCODE", "message", "TEMPLATES"]
    template = doc.find("TEMPLATES/TEMPLATE")
    assert [child.tag for child in template] == ["PRICE", "TEMPLATEID", "TEMPLATENAME"]
    assert [child.tag for child in template.find("PRICE")] == ["AMOUNT", "CURRENCYID"]


def test_template_ids_have_seven_digits(client, customer, template_id):
    assert 2000001 <= template_id <= 9999999


def test_inactive_templates_are_not_listed(app, client, customer, make_template):
    from infrastructure.extensions import db
    from orders.models import Template

    hidden = make_template(name="Old")
    with app.app_context():
        db.session.get(Template, hidden).active = False
        db.session.commit()

    doc = parse_valid(client.get("/REST.svc/Templates/", query_string=customer.creds()))
    assert doc.findall("TEMPLATES/TEMPLATE") == []


def test_parameter_names_match_case_insensitively(client, customer, template_id):
    query = {"contactemail": customer.email, "CONTACTAPIKEY": customer.api_key}
    assert error_code(client.get("/REST.svc/Templates/", query_string=query)) == "noError"


def test_json_on_request_has_the_same_fields(client, customer, template_id):
    response = client.get("/REST.svc/Templates/", query_string=customer.creds(), headers={"Accept": "application/json"})

    assert response.content_type == "application/json"
    body = response.get_json()
    assert body["ERRORCODE"] == "noError"
    assert body["TEMPLATES"] == [
        {"PRICE": {"AMOUNT": "0.95", "CURRENCYID": 1}, "TEMPLATEID": template_id, "TEMPLATENAME": "Transparent PNG"}
    ]


def test_wrong_key_is_refused_with_401(client, customer):
    response = client.get("/REST.svc/Templates/",
                          query_string={"ContactEmail": customer.email, "ContactAPIkey": "nope"})

    assert response.status_code == 401
    assert error_code(response) == "invalidCredentials"


def test_unknown_email_is_refused_like_a_wrong_key(client, customer):
    response = client.get("/REST.svc/Templates/",
                          query_string={"ContactEmail": "x@y.z", "ContactAPIkey": customer.api_key})

    assert response.status_code == 401
    assert error_code(response) == "invalidCredentials"


def test_missing_credentials_name_the_parameter(client):
    response = client.get("/REST.svc/Templates/")

    assert response.status_code == 400
    doc = parse_valid(response)
    assert doc.findtext("ERRORCODE") == "missingParameter"
    assert "ContactEmail" in doc.findtext("message")


def test_disabled_customer_is_refused(app, client, customer):
    from orders import customers

    with app.app_context():
        customers.set_customer_active(customer.email, False)

    response = client.get("/REST.svc/Templates/", query_string=customer.creds())
    assert response.status_code == 401
    assert error_code(response) == "invalidCredentials"
