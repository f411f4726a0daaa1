"""Hostile or broken XML gets a SOAP fault (or a 4xx) before anything expands or is fetched,
and the service answers the next honest call as usual."""
import time

import pytest
import requests
from lxml import etree
from spyne import Application
from spyne.server.wsgi import WsgiApplication
from werkzeug.test import Client

from soap import NAMESPACE
from soap.operations import OrdersService
from soap.protocol import HardenedSoap11
from tests.support.soap import XML_HEADERS, answer, child_text, envelope, fault_code, post

MARKER = "XXE-MARKER-7f3a9c"

LAUGHS = "".join(
    f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
)
BILLION_LAUGHS = f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{LAUGHS}]>'


@pytest.fixture
def honest_call(live_server, customer, template_id):
    """Asserts that an ordinary call still gets its answer."""

    def check() -> None:
        response = post(live_server, envelope("GetTemplates", ContactEmail=customer.email,
                                              ContactAPIkey=customer.api_key))
        assert child_text(answer(response, "GetTemplates"), "ErrorCode") == "noError"

    return check


def _status_call(customer, ticket: str, prolog: str = "") -> str:
    # unknownTicket's message repeats the ticket: an entity expanded there would show.
    return envelope("GetImageStatus", prolog, ContactEmail=customer.email, ContactAPIkey=customer.api_key,
                    ImageTicket=ticket)


def _assert_refused(response: requests.Response, code: str = "Client") -> None:
    assert response.status_code >= 400
    assert (fault_code(response) or "").startswith(code), response.text


def test_doctype_is_refused(live_server, customer, honest_call):
    response = post(live_server, _status_call(customer, "t", '<!DOCTYPE Envelope [<!ELEMENT a ANY>]>'))

    _assert_refused(response, "Client.DoctypeForbidden")
    honest_call()


def test_external_entity_to_a_local_file_is_never_read(live_server, customer, tmp_path, honest_call):
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER)
    prolog = f'<?xml version="1.0"?><!DOCTYPE Envelope [<!ENTITY xxe SYSTEM "file://{secret}">]>'

    response = post(live_server, _status_call(customer, "&xxe;", prolog))

    _assert_refused(response, "Client.DoctypeForbidden")
    assert MARKER not in response.text
    honest_call()


def test_external_entity_to_the_network_is_never_fetched(live_server, customer, image_server, honest_call):
    url = image_server.serve_bytes("/xxe", MARKER.encode(), "text/plain")
    prolog = f'<!DOCTYPE Envelope [<!ENTITY xxe SYSTEM "{url}">]>'

    response = post(live_server, _status_call(customer, "&xxe;", prolog))

    _assert_refused(response, "Client.DoctypeForbidden")
    assert MARKER not in response.text
    assert image_server.requests == []
    honest_call()


def test_external_dtd_is_never_fetched(live_server, customer, image_server, honest_call):
    url = image_server.serve_bytes("/evil.dtd", b'<!ENTITY xxe "x">', "application/xml-dtd")

    response = post(live_server, _status_call(customer, "t", f'<!DOCTYPE Envelope SYSTEM "{url}">'))

    _assert_refused(response)
    assert image_server.requests == []
    honest_call()


def test_parameter_entity_is_never_fetched(live_server, customer, image_server, honest_call):
    url = image_server.serve_bytes("/p.dtd", b'<!ENTITY xxe "x">', "application/xml-dtd")

    response = post(live_server, _status_call(customer, "t", f'<!DOCTYPE Envelope [<!ENTITY % p SYSTEM "{url}"> %p;]>'))

    _assert_refused(response)
    assert image_server.requests == []
    honest_call()


def test_billion_laughs_is_refused_quickly(live_server, customer, honest_call):
    started = time.monotonic()
    response = post(live_server, _status_call(customer, "&lol9;", BILLION_LAUGHS))

    _assert_refused(response)
    assert time.monotonic() - started < 5
    assert "lollol" not in response.text
    honest_call()


def test_body_over_the_limit_is_refused_unread(app, live_server, customer, honest_call):
    padding = "x" * (app.config["MAX_REQUEST_BYTES"] + 1)

    response = post(live_server, _status_call(customer, padding))

    _assert_refused(response, "Client.RequestTooLong")
    honest_call()


def test_chunked_body_is_read_no_further_than_the_limit(app, live_server, customer, honest_call):
    limit = app.config["MAX_REQUEST_BYTES"]
    body = _status_call(customer, "x" * (2 * limit)).encode()
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))  # a generator: sent chunked, no length

    response = post(live_server, chunks)

    _assert_refused(response)
    honest_call()


BROKEN = [
    ("not XML", "<Envelope", "Client.XMLSyntaxError"),
    ("empty body", "", "Client.XMLSyntaxError"),
    ("not an envelope", "<order/>", "Client.SoapError"),
    ("unknown operation", envelope("DeleteEverything", ContactEmail="a@example.com"), "Client"),
    ("unknown field", envelope("GetTemplates", Sneaky="1"), "Client"),
]


@pytest.mark.parametrize("case, body, code", BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_request_gets_a_client_fault(live_server, honest_call, case, body, code):
    _assert_refused(post(live_server, body), code)
    honest_call()


def test_get_without_wsdl_is_not_allowed(live_server, honest_call):
    response = requests.get(live_server.soap_url, timeout=10)

    assert response.status_code == 405
    assert fault_code(response) == "Client.RequestNotAllowed"
    honest_call()


# --- the protocol on its own ---------------------------------------------------------------


def test_parser_never_resolves_entities_nor_uses_the_network():
    kwargs = HardenedSoap11().parser_kwargs
    assert (kwargs["resolve_entities"], kwargs["no_network"], kwargs["load_dtd"]) == (False, True, False)


def test_parser_leaves_an_external_entity_unread(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER)
    document = f'<!DOCTYPE a [<!ENTITY xxe SYSTEM "file://{secret}">]><a>&xxe;</a>'

    parsed = etree.fromstring(document, etree.XMLParser(**HardenedSoap11().parser_kwargs))

    assert MARKER not in etree.tostring(parsed, encoding="unicode")


@pytest.mark.parametrize("validator", [None, "soft", "lxml"])
def test_doctype_is_refused_whatever_the_validator(validator, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER)
    bare = WsgiApplication(Application([OrdersService], tns=NAMESPACE, in_protocol=HardenedSoap11(validator=validator),
                                       out_protocol=HardenedSoap11()))
    prolog = f'<!DOCTYPE Envelope [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    body = envelope("GetImageStatus", prolog, ContactEmail="&xxe;", ContactAPIkey="k", ImageTicket="t")

    response = Client(bare).post("/", data=body, headers=XML_HEADERS)

    assert response.status_code == 500
    assert b"Client.DoctypeForbidden" in response.data and MARKER.encode() not in response.data


def test_a_crash_outside_any_operation_is_still_a_soap_fault(monkeypatch, live_server, honest_call):
    def crash(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(HardenedSoap11, "decompose_incoming_envelope", crash)
    response = post(live_server, envelope("GetTemplates", ContactEmail="a@example.com"))

    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/xml")
    assert fault_code(response) == "Server" and b"secret" not in response.content
    monkeypatch.undo()
    honest_call()
