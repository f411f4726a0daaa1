"""Admin pages: customers, templates, operators, an order's whole record, stats and charts."""
from __future__ import annotations

import re

import pytest
from lxml import etree

from tests.support.dashboard import PASSWORD, post_form, sign_in


@pytest.fixture
def ada(client, make_operator):
    make_operator("ada", admin=True)
    sign_in(client, "ada")
    return "ada"


def _customer_id(app, email):
    from infrastructure.extensions import db
    from orders.models import Customer

    with app.app_context():
        return db.session.scalar(db.select(Customer.id).where(Customer.email == email))


def test_creating_a_customer_shows_its_api_key_once(client, ada):
    page = post_form(client, "/dashboard/admin/customers", {"email": "New@Shop.example"}).get_data(as_text=True)
    key = re.search(r'<code id="api-key">([^<]+)</code>', page).group(1)

    templates = client.get("/REST.svc/Templates/",
                           query_string={"ContactEmail": "new@shop.example", "ContactAPIkey": key})
    assert b"<ERRORCODE>noError</ERRORCODE>" in templates.data
    assert key not in client.get("/dashboard/admin/customers").get_data(as_text=True)


def test_the_api_key_never_goes_into_the_session_cookie(client, ada):
    response = post_form(client, "/dashboard/admin/customers", {"email": "new@shop.example"})
    key = re.search(r'<code id="api-key">([^<]+)</code>', response.get_data(as_text=True)).group(1)

    assert key not in response.headers.get("Set-Cookie", "")


def test_a_duplicate_customer_is_refused_with_the_reason(client, customer, ada):
    response = post_form(client, "/dashboard/admin/customers", {"email": customer.email}, follow_redirects=True)

    assert "already exists" in response.get_data(as_text=True)


def test_disabling_a_customer_stops_its_api_key(app, client, customer, ada):
    customer_id = _customer_id(app, customer.email)

    post_form(client, f"/dashboard/admin/customers/{customer_id}/active", {"active": "0"})

    response = client.get("/REST.svc/Templates/", query_string=customer.creds())
    assert response.status_code == 401


def test_rotating_a_key_shows_the_new_one_and_retires_the_old(app, client, customer, ada):
    customer_id = _customer_id(app, customer.email)

    page = post_form(client, f"/dashboard/admin/customers/{customer_id}/rotate-key").get_data(as_text=True)
    new_key = re.search(r'<code id="api-key">([^<]+)</code>', page).group(1)

    assert client.get("/REST.svc/Templates/", query_string=customer.creds()).status_code == 401
    ok = client.get("/REST.svc/Templates/", query_string={"ContactEmail": customer.email, "ContactAPIkey": new_key})
    assert ok.status_code == 200


def test_a_customer_page_lists_its_orders(app, client, customer, reviewable, ada):
    ticket = reviewable(1)[0]

    page = client.get(f"/dashboard/admin/customers/{_customer_id(app, customer.email)}").get_data(as_text=True)

    assert ticket in page and "40 Awaiting review" in page


def test_creating_a_template_with_options(client, ada):
    form = {"name": "White JPEG", "price": "1.20", "currency_id": "2", "delivery_hours": "12",
            "options": "format=jpg\n# a comment\nbackground = #ffffff\n"}

    page = post_form(client, "/dashboard/admin/templates", form, follow_redirects=True).get_data(as_text=True)

    assert "White JPEG created" in page
    assert "<code>format=jpg</code>" in page and "<code>background=#ffffff</code>" in page and "1.20 EUR" in page


def test_a_malformed_options_line_is_refused_with_its_number(client, ada):
    form = {"name": "Bad", "price": "1", "currency_id": "1", "delivery_hours": "12", "options": "format=png\nnonsense"}

    page = post_form(client, "/dashboard/admin/templates", form, follow_redirects=True).get_data(as_text=True)

    assert "options line 2 is not KEY=VALUE" in page


def test_editing_a_template_changes_it(app, client, template_id, ada):
    from orders import templates

    form = {"name": "Renamed", "price": "2.50", "currency_id": "1", "delivery_hours": "48", "options": "crop=true"}
    post_form(client, f"/dashboard/admin/templates/{template_id}", form)

    with app.app_context():
        changed = templates.template_by_id(template_id)
        assert (changed.name, str(changed.price_amount), changed.delivery_hours, changed.options) == \
            ("Renamed", "2.50", 48, {"crop": "true"})


def test_the_template_edit_page_shows_its_options_as_lines(client, make_template, ada):
    template_id = make_template(format="jpg", crop="true")

    page = client.get(f"/dashboard/admin/templates/{template_id}").get_data(as_text=True)

    options = page.split('<textarea name="options"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert sorted(options.splitlines()) == ["crop=true", "format=jpg"]


def test_an_unknown_template_option_is_refused_with_the_reason(client, ada):
    form = {"name": "Odd", "price": "1", "currency_id": "1", "delivery_hours": "12", "options": "sparkle=yes"}

    page = post_form(client, "/dashboard/admin/templates", form, follow_redirects=True).get_data(as_text=True)

    assert "sparkle: unknown option" in page


def test_a_deactivated_template_is_refused_to_new_orders(client, customer, template_id, ada):
    from tests.support.api import error_code, post_image

    post_form(client, f"/dashboard/admin/templates/{template_id}/active", {"active": "0"})

    assert error_code(post_image(client, customer, templateId=str(template_id))) == "unknownTemplate"


def test_creating_an_operator_who_can_then_sign_in(client, ada):
    post_form(client, "/dashboard/admin/operators", {"name": "piet", "password": PASSWORD})
    post_form(client, "/dashboard/logout")

    assert sign_in(client, "piet").headers["Location"] == "/dashboard/"


def test_a_short_password_is_refused_with_the_rule(client, ada):
    page = post_form(client, "/dashboard/admin/operators", {"name": "piet", "password": "short"},
                     follow_redirects=True).get_data(as_text=True)

    assert "at least 10 characters" in page


def test_disabling_an_operator_stops_their_sign_in(client, make_operator, ada):
    make_operator("piet")
    post_form(client, "/dashboard/admin/operators/active", {"name": "piet", "active": "0"})
    post_form(client, "/dashboard/logout")

    assert sign_in(client, "piet").status_code == 401


def test_setting_an_operators_password(client, make_operator, ada):
    make_operator("piet")
    post_form(client, "/dashboard/admin/operators/password", {"name": "piet", "password": "a brand new secret"})
    post_form(client, "/dashboard/logout")

    assert sign_in(client, "piet", "a brand new secret").status_code == 302


def test_an_admin_changing_their_own_password_stays_signed_in(client, ada):
    post_form(client, "/dashboard/admin/operators/password", {"name": "ada", "password": "a brand new secret"})

    assert client.get("/dashboard/admin/operators").status_code == 200


def _level(app, name):
    from orders import operators

    with app.app_context():
        return operators.operator_by_name(name).level


def test_an_admin_sets_an_operator_s_level(app, client, make_operator, ada):
    make_operator("piet")

    page = post_form(client, "/dashboard/admin/operators/level", {"name": "piet", "level": "senior"},
                     follow_redirects=True).get_data(as_text=True)
    assert "piet is now senior" in page and _level(app, "piet") == "senior"
    post_form(client, "/dashboard/admin/operators/level", {"name": "piet", "level": "operator"})
    assert _level(app, "piet") == "operator"


def test_an_unknown_level_is_refused_and_changes_nothing(app, client, make_operator, ada):
    make_operator("piet")

    page = post_form(client, "/dashboard/admin/operators/level", {"name": "piet", "level": "boss"},
                     follow_redirects=True).get_data(as_text=True)
    assert "unknown level" in page and _level(app, "piet") == "operator"


def test_setting_a_level_needs_the_csrf_token(app, client, make_operator, ada):
    make_operator("piet")

    assert client.post("/dashboard/admin/operators/level", data={"name": "piet", "level": "senior"}).status_code == 400
    assert _level(app, "piet") == "operator"


def test_creating_a_senior_operator(app, client, ada):
    page = post_form(client, "/dashboard/admin/operators", {"name": "sian", "password": PASSWORD, "senior": "1"},
                     follow_redirects=True).get_data(as_text=True)

    assert "Created operator sian (senior)" in page and _level(app, "sian") == "senior"
    assert re.search(r'<option value="senior" selected>senior</option>', page)


def test_the_order_page_shows_the_history_and_every_file_version(app, client, reviewable, make_operator, ada):
    from orders import operators, review

    ticket = reviewable(1)[0]
    make_operator("piet")
    with app.app_context():
        piet = operators.operator_by_name("piet")
        review.claim(piet, ticket)
        review.save_mask(piet, ticket, _png())

    page = client.get(f"/dashboard/admin/orders/{ticket}").get_data(as_text=True)

    for step in ("10 Received", "20 Segmenting", "40 Awaiting review", "50 In review", "operator:piet"):
        assert step in page
    assert f"/dashboard/files/{ticket}/original" in page and f"/dashboard/files/{ticket}/preview" in page
    assert f"/dashboard/files/{ticket}/mask/0" in page and f"/dashboard/files/{ticket}/mask/1" in page
    assert "Mask version 1" in page and "(brush)" in page


def test_the_order_page_lists_callback_attempts_and_resends(app, client, make_template, customer, image_server,
                                                           receiver, run_jobs, ada):
    from tests.support.api import post_image, ticket_of

    url = image_server.serve_bytes("/x.jpg", b"not an image", "image/jpeg")
    ticket = ticket_of(post_image(client, customer, templateId=make_template(), ImageURL=url,
                                  ImageCallbackURL=receiver.url()))
    run_jobs()  # fails as notAnImage and calls back once

    page = client.get(f"/dashboard/admin/orders/{ticket}").get_data(as_text=True)
    assert "State: <strong>delivered</strong>" in page and "HTTP 200" in page

    response = post_form(client, f"/dashboard/admin/orders/{ticket}/resend-callback")
    assert response.status_code == 302
    run_jobs()
    assert len(receiver.received) == 2


def test_finding_an_order_by_ticket_opens_its_page(client, reviewable, ada):
    ticket = reviewable(1)[0]

    response = client.get("/dashboard/admin/orders", query_string={"ticket": f" {ticket} "})

    assert response.headers["Location"] == f"/dashboard/admin/orders/{ticket}"


def test_the_stats_page_shows_the_figures(app, client, reviewable, make_operator, ada):
    from orders import operators, review

    first, second = reviewable(2)
    make_operator("piet")
    with app.app_context():
        piet = operators.operator_by_name("piet")
        review.claim(piet, first)
        review.approve(piet, first)
        review.claim(piet, second)
        review.reject(piet, second, "subjectUnclear")

    page = client.get("/dashboard/admin/stats").get_data(as_text=True)

    assert re.search(r"<td>piet</td><td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">1</td>", page)
    assert '<p class="big-figure" id="unedited-share">100 %</p>' in page


@pytest.mark.parametrize("name", ["status", "throughput", "operators", "seconds", "unedited", "sla"])
def test_each_chart_is_a_standalone_svg_without_script(client, ada, name):
    response = client.get(f"/dashboard/admin/stats/{name}.svg?hours=168")

    assert response.mimetype == "image/svg+xml"
    svg = etree.fromstring(response.data)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert not svg.findall(".//{http://www.w3.org/2000/svg}script")
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_an_unknown_chart_is_404(client, ada):
    assert client.get("/dashboard/admin/stats/secrets.svg").status_code == 404


def _png():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (96, 64), 255).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_customer_list_is_paged(app, client, make_customer, ada):
    for n in range(101):
        make_customer(f"shop{n:03d}@example.com")

    first = client.get("/dashboard/admin/customers").get_data(as_text=True)
    second = client.get("/dashboard/admin/customers?page=2").get_data(as_text=True)
    assert "shop000@example.com" in first and "shop100@example.com" not in first
    assert "Page 1 of 2 (101 in all)" in first and 'href="?page=2"' in first
    assert "shop100@example.com" in second and "shop000@example.com" not in second


def test_the_stats_page_and_its_charts_compute_the_operator_figures_once(client, ada, monkeypatch):
    from orders import reports

    calls = []
    real = reports.operator_figures
    monkeypatch.setattr(reports, "operator_figures", lambda since: calls.append(since) or real(since))

    client.get("/dashboard/admin/stats")
    client.get("/dashboard/admin/stats/operators.svg")
    client.get("/dashboard/admin/stats/seconds.svg")
    assert len(calls) == 1
