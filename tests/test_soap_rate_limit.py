"""SOAP calls count against the same limits as REST calls: per account, per address before parsing."""
import pytest

from tests.support.soap import answer, child_text, envelope, fault_code, post


def _soap_templates(live_server, account):
    return post(live_server, envelope("GetTemplates", ContactEmail=account.email, ContactAPIkey=account.api_key))


def _code(response) -> str:
    return child_text(answer(response, "GetTemplates"), "ErrorCode")


def test_calls_over_the_limit_answer_rate_limited_with_retry_after(app, live_server, customer):
    app.config["RATE_LIMIT"] = "3/minute"

    answers = [_soap_templates(live_server, customer) for _ in range(4)]

    assert [_code(r) for r in answers] == ["noError", "noError", "noError", "rateLimited"]
    assert child_text(answer(answers[-1], "GetTemplates"), "Message") == "rate limit exceeded: 3 per 1 minute"
    assert int(answers[-1].headers["Retry-After"]) >= 1


def test_limit_is_per_account(app, live_server, make_customer):
    app.config["RATE_LIMIT"] = "2/minute"
    first, second = make_customer("a@example.com"), make_customer("b@example.com")
    for _ in range(2):
        _soap_templates(live_server, first)

    assert _code(_soap_templates(live_server, first)) == "rateLimited"
    assert _code(_soap_templates(live_server, second)) == "noError"


def test_rest_calls_use_up_the_soap_limit(app, client, live_server, customer):
    app.config["RATE_LIMIT"] = "2/minute"
    for _ in range(2):
        assert client.get("/REST.svc/Templates/", query_string=customer.creds()).status_code == 200

    assert _code(_soap_templates(live_server, customer)) == "rateLimited"


def test_soap_calls_use_up_the_rest_limit(app, client, live_server, customer):
    app.config["RATE_LIMIT"] = "2/minute"
    for _ in range(2):
        assert _code(_soap_templates(live_server, customer)) == "noError"

    assert client.get("/REST.svc/Templates/", query_string=customer.creds()).status_code == 429


def test_all_operations_share_one_bucket_per_key(app, live_server, customer):
    app.config["RATE_LIMIT"] = "1/minute"
    _soap_templates(live_server, customer)

    status = post(live_server, envelope("GetImageStatus", ContactEmail=customer.email,
                                        ContactAPIkey=customer.api_key, ImageTicket="t"))

    assert child_text(answer(status, "GetImageStatus"), "ErrorCode") == "rateLimited"


def test_the_same_key_spelled_otherwise_shares_the_account_s_bucket(app, live_server, customer):
    app.config["RATE_LIMIT"] = "1/minute"
    _soap_templates(live_server, customer)

    shouted = post(live_server, envelope("GetTemplates", ContactEmail=customer.email,
                                         ContactAPIkey=customer.api_key.upper() + "  "))
    assert _code(shouted) == "rateLimited"


@pytest.mark.parametrize("body", ["<not-xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'])
def test_envelopes_that_do_not_parse_are_counted_per_address(app, live_server, body):
    app.config["RATE_LIMIT_PER_ADDRESS"] = "2/minute"
    answers = [post(live_server, body) for _ in range(3)]

    assert [fault_code(r) is not None for r in answers[:2]] == [True, True]
    assert answers[2].status_code == 429 and fault_code(answers[2]).endswith("Client.RateLimited")
    assert int(answers[2].headers["Retry-After"]) >= 1
