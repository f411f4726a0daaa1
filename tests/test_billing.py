"""GET Account and GET Statement: what a customer owes this month and for any month, and what a partner earns."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.support.api import error_code, parse_valid, post_image, ticket_of


def _set(app, ticket: str, **columns) -> None:
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        db.session.execute(db.update(Order).where(Order.ticket == ticket).values(**columns))
        db.session.commit()


def _account(client, account):
    return parse_valid(client.get("/REST.svc/Account/", query_string=account.creds()))


def _statement(client, account, month: str, **headers):
    return client.get(f"/REST.svc/Statement/{month}/", query_string=account.creds(), headers=headers)


def _this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def _money(element) -> list[tuple[str, str]]:
    return [(m.findtext("AMOUNT"), m.findtext("CURRENCYID")) for m in element]


def test_the_account_counts_this_month_s_orders_by_status(client, customer, deliver, template_id):
    deliver(2)
    ticket_of(post_image(client, customer, templateId=template_id))

    doc = _account(client, customer)

    assert doc.findtext("EMAIL") == customer.email and doc.findtext("MONTH") == _this_month()
    counts = {s.findtext("STATUSNAME"): s.findtext("COUNT") for s in doc.iterfind("ORDERS/STATUS")}
    assert counts == {"Received": "1", "Delivered": "2"}


def test_the_amount_due_sums_this_month_s_deliveries_at_their_price(client, customer, deliver):
    deliver(2)

    assert _money(_account(client, customer).find("AMOUNTSDUE")) == [("1.90", "1")]


def test_orders_not_delivered_are_not_due(client, customer, template_id):
    ticket = ticket_of(post_image(client, customer, templateId=template_id))
    client.delete(f"/REST.svc/Image/{ticket}/", query_string=customer.creds())

    assert _money(_account(client, customer).find("AMOUNTSDUE")) == []


def test_a_customer_is_not_a_partner_and_sees_no_commissions(client, customer):
    assert _account(client, customer).find("COMMISSIONS") is None


def test_a_partner_sees_the_commission_earned_on_orders_with_its_key(client, make_customer, deliver):
    partner = make_customer("partner@example.com", developer=True, commission_pct="10")
    deliver(2, developerAPIkey=partner.api_key)

    assert _money(_account(client, partner).find("COMMISSIONS")) == [("0.20", "1")]  # 0.095 each, to the cent


def test_the_statement_lists_each_order_delivered_in_the_month(client, customer, deliver):
    tickets = deliver(2, CustomerImageId="sku-4")

    doc = parse_valid(_statement(client, customer, _this_month()))

    lines = doc.findall("LINES/LINE")
    assert [line.findtext("IMAGETICKET") for line in lines] == tickets
    assert {(line.findtext("CUSTOMERIMAGEID"), line.findtext("AMOUNT")) for line in lines} == {("sku-4", "0.95")}
    assert _money(doc.find("TOTALS")) == [("1.90", "1")]


def test_the_statement_keeps_the_price_fixed_when_the_order_was_placed(app, client, customer, deliver, template_id):
    from orders import templates

    deliver(1)
    with app.app_context():
        templates.update_template(template_id, name="Dearer", price="5.00", currency_id=1, delivery_hours=24)

    assert _money(parse_valid(_statement(client, customer, _this_month())).find("TOTALS")) == [("0.95", "1")]


def test_an_order_billed_in_another_month_is_on_that_month_s_statement(app, client, customer, deliver):
    (ticket,) = deliver(1)
    _set(app, ticket, billed_at=datetime(2026, 10, 31, 23, 59))

    october = parse_valid(_statement(client, customer, "2026-10"))
    november = parse_valid(_statement(client, customer, "2026-11"))

    assert [line.findtext("IMAGETICKET") for line in october.iterfind("LINES/LINE")] == [ticket]
    assert october.findtext("LINES/LINE/DELIVERED") == "2026-10-31T23:59:00Z"
    assert november.findall("LINES/LINE") == []


def test_a_partner_s_statement_has_its_commission_lines(client, make_customer, deliver):
    partner = make_customer("partner@example.com", developer=True, commission_pct="10")
    tickets = deliver(1, developerAPIkey=partner.api_key)

    doc = parse_valid(_statement(client, partner, _this_month()))

    assert [line.findtext("IMAGETICKET") for line in doc.iterfind("COMMISSIONLINES/LINE")] == tickets
    assert _money(doc.find("COMMISSIONTOTALS")) == [("0.10", "1")]
    assert doc.findall("LINES/LINE") == []


def test_the_statement_as_csv_has_a_header_and_one_row_per_line(client, customer, deliver):
    tickets = deliver(1, CustomerImageId="=HYPERLINK(1)")

    answer = _statement(client, customer, _this_month(), Accept="text/csv")

    assert answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == ["KIND", "IMAGETICKET", "CUSTOMERIMAGEID", "DELIVERED", "TEMPLATEID", "AMOUNT", "CURRENCYID"]
    assert [(r[0], r[1], r[2], r[5]) for r in rows[1:]] == [("order", tickets[0], "'=HYPERLINK(1)", "0.95")]


def test_a_test_order_is_never_on_a_statement_nor_due(client, customer, template_id, image_server, run_jobs):
    from tests.support.pictures import encode

    url = image_server.serve_bytes("/t.png", encode("PNG", (64, 48)), "image/png")
    ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url, Test="1"))
    run_jobs()

    assert parse_valid(_statement(client, customer, _this_month())).findall("LINES/LINE") == []
    doc = _account(client, customer)
    assert _money(doc.find("AMOUNTSDUE")) == [] and doc.findall("ORDERS/STATUS") == []


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-1", "26-01", "december", "2026-12-01"])
def test_a_malformed_month_is_invalid_parameter(client, customer, month):
    answer = _statement(client, customer, month)

    assert answer.status_code == 400 and error_code(answer) == "invalidParameter"


def test_the_statement_needs_the_right_key(client, customer):
    answer = client.get("/REST.svc/Statement/2026-12/", query_string={"ContactEmail": customer.email,
                                                                      "ContactAPIkey": "wrong"})

    assert answer.status_code == 401 and error_code(answer) == "invalidCredentials"


def test_soap_account_and_statement_match_rest(client, zeep_client, customer, deliver):
    tickets = deliver(1)

    account = zeep_client.service.GetAccount(customer.email, customer.api_key)
    statement = zeep_client.service.GetStatement(customer.email, customer.api_key, _this_month())

    assert account.ErrorCode == statement.ErrorCode == "noError"
    assert [(str(m.Amount), m.CurrencyId) for m in account.Account.AmountsDue.Price] == [("0.95", 1)]
    assert [line.ImageTicket for line in statement.Statement.Lines.StatementLine] == tickets
    rest = parse_valid(_statement(client, customer, _this_month()))
    assert [(str(t.Amount), str(t.CurrencyId)) for t in statement.Statement.Totals.Price] == [
        (t.findtext("AMOUNT"), t.findtext("CURRENCYID")) for t in rest.iterfind("TOTALS/TOTAL")]


def test_soap_refuses_a_malformed_month_as_rest_does(client, zeep_client, customer):
    rest = parse_valid(_statement(client, customer, "2026-13"))
    soap = zeep_client.service.GetStatement(customer.email, customer.api_key, "2026-13")

    assert (soap.ErrorCode, soap.Message) == (rest.findtext("ERRORCODE"), rest.findtext("message"))
