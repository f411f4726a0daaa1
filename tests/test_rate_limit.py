"""Rate limits on the API: per account, per client address, and on failed sign-ins."""
import uuid

import pytest

from tests.support.api import parse_valid


def test_calls_over_the_limit_get_429_with_retry_after(app, client, customer):
    app.config["RATE_LIMIT"] = "3/minute"

    answers = [client.get("/REST.svc/Templates/", query_string=customer.creds()) for _ in range(4)]

    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert parse_valid(answers[-1]).findtext("ERRORCODE") == "rateLimited"
    assert int(answers[-1].headers["Retry-After"]) >= 1


def test_limit_is_per_account(app, client, make_customer):
    app.config["RATE_LIMIT"] = "2/minute"
    first, second = make_customer("a@example.com"), make_customer("b@example.com")

    for _ in range(2):
        client.get("/REST.svc/Templates/", query_string=first.creds())

    assert client.get("/REST.svc/Templates/", query_string=first.creds()).status_code == 429
    assert client.get("/REST.svc/Templates/", query_string=second.creds()).status_code == 200


def test_one_limit_covers_every_operation_of_a_key(app, client, customer):
    app.config["RATE_LIMIT"] = "2/minute"

    client.get("/REST.svc/Templates/", query_string=customer.creds())
    client.post("/REST.svc/Image/", json={**customer.creds(), "ImageURL": "https://a.example/b.jpg"})

    status = client.get("/REST.svc/Image/Status/00000000-0000-4000-8000-000000000000/", query_string=customer.creds())
    assert status.status_code == 429


def _keyless_call(client, address: str):
    return client.get("/REST.svc/Templates/", headers={"X-Forwarded-For": address})


def test_behind_a_trusted_proxy_callers_without_a_key_are_limited_per_forwarded_address(proxied_app):
    proxied_app.config["SIGN_IN_FAILURE_LIMIT"] = "1/minute"
    client = proxied_app.test_client()

    _keyless_call(client, "203.0.113.1")

    assert _keyless_call(client, "203.0.113.1").status_code == 429
    assert _keyless_call(client, "203.0.113.2").status_code == 400  # its own bucket: missingParameter


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(app, client):
    app.config["SIGN_IN_FAILURE_LIMIT"] = "1/minute"

    _keyless_call(client, "203.0.113.1")

    assert _keyless_call(client, "203.0.113.2").status_code == 429


@pytest.mark.parametrize("spelling", [lambda k: k + "   ", str.upper, lambda k: "  " + k.upper() + " "])
def test_the_same_key_spelled_otherwise_shares_the_account_s_bucket(app, client, customer, spelling):
    app.config["RATE_LIMIT"] = "2/minute"
    for _ in range(2):
        assert client.get("/REST.svc/Templates/", query_string=customer.creds()).status_code == 200

    respelled = {**customer.creds(), "ContactAPIkey": spelling(customer.api_key)}
    assert client.get("/REST.svc/Templates/", query_string=respelled).status_code == 429


def test_a_caller_guessing_keys_meets_a_429(app, client, customer):
    app.config["SIGN_IN_FAILURE_LIMIT"] = "3/minute"
    guesses = [client.get("/REST.svc/Templates/", query_string={"ContactEmail": customer.email,
                                                                "ContactAPIkey": str(uuid.uuid4())})
               for _ in range(4)]

    assert [r.status_code for r in guesses] == [401, 401, 401, 429]


def test_guesses_at_one_e_mail_from_many_addresses_meet_a_429(proxied_app, customer):
    proxied_app.config["SIGN_IN_FAILURE_LIMIT"] = "2/minute"
    client = proxied_app.test_client()

    def guess(address: str):
        return client.get("/REST.svc/Templates/", headers={"X-Forwarded-For": address},
                          query_string={"ContactEmail": customer.email, "ContactAPIkey": str(uuid.uuid4())})

    assert [guess(f"203.0.113.{n}").status_code for n in range(3)] == [401, 401, 429]


def test_the_owner_signing_in_right_is_not_refused_for_someone_else_s_guesses(app, client, customer):
    app.config["SIGN_IN_FAILURE_LIMIT"] = "1/minute"
    for _ in range(3):
        client.get("/REST.svc/Templates/", query_string={"ContactEmail": customer.email, "ContactAPIkey": "wrong"})

    assert client.get("/REST.svc/Templates/", query_string=customer.creds()).status_code == 200


def test_calls_are_counted_per_address_before_the_body_is_read(app, client):
    app.config["RATE_LIMIT_PER_ADDRESS"] = "2/minute"
    answers = [client.post("/REST.svc/Image/", data=b"[" * 50_000, content_type="application/json")
               for _ in range(3)]

    assert [r.status_code for r in answers] == [400, 400, 429]


def test_a_json_body_nested_past_the_parser_s_depth_is_an_invalid_parameter(client):
    answer = client.post("/REST.svc/Image/", data=b"[" * 50_000, content_type="application/json")

    assert answer.status_code == 400 and parse_valid(answer).findtext("ERRORCODE") == "invalidParameter"
