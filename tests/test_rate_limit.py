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
