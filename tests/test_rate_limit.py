"""Per-key rate limiting on the API."""
from tests.support.api import parse_valid


def test_calls_over_the_limit_get_429_with_retry_after(app, client, customer):
    app.config["RATE_LIMIT"] = "3/minute"

    answers = [client.get("/REST.svc/Templates/", query_string=customer.creds()) for _ in range(4)]

    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert parse_valid(answers[-1]).findtext("ERRORCODE") == "rateLimited"
    assert int(answers[-1].headers["Retry-After"]) >= 1


def test_limit_is_per_api_key(app, client, make_customer):
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
    proxied_app.config["RATE_LIMIT"] = "1/minute"
    client = proxied_app.test_client()

    _keyless_call(client, "203.0.113.1")

    assert _keyless_call(client, "203.0.113.1").status_code == 429
    assert _keyless_call(client, "203.0.113.2").status_code == 400  # its own bucket: missingParameter


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(app, client):
    app.config["RATE_LIMIT"] = "1/minute"

    _keyless_call(client, "203.0.113.1")

    assert _keyless_call(client, "203.0.113.2").status_code == 429
