"""SOAP tests: the app on a real loopback port, raw envelopes, and reading faults."""
from __future__ import annotations

import requests
from lxml import etree

from soap import NAMESPACE, PATH
from tests.support.live_server import LiveServer as BaseLiveServer

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


class LiveServer(BaseLiveServer):
    """The Flask app, SOAP mount included, served by werkzeug on 127.0.0.1 with a random port."""

    @property
    def soap_url(self) -> str:
        return self.base + PATH

    @property
    def wsdl_url(self) -> str:
        return self.soap_url + "?wsdl"


def envelope(operation: str, prolog: str = "", **fields: str) -> str:
    """A request envelope as a client writes it; prolog goes before the root (a DOCTYPE, say).

    Values are written as given, so a test can put an entity reference in one.
    """
    children = "".join(f"<c:{name}>{value}</c:{name}>" for name, value in fields.items())
    return (f'{prolog}<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:c="{NAMESPACE}">'
            f"<soapenv:Body><c:{operation}>{children}</c:{operation}></soapenv:Body></soapenv:Envelope>")


def post(server: LiveServer, body: str | bytes, **headers: str) -> requests.Response:
    return requests.post(server.soap_url, data=body, headers={**XML_HEADERS, **headers}, timeout=10)


def fault_code(response: requests.Response) -> str | None:
    """The faultcode without its prefix ("Client.DoctypeForbidden"), or None when there is no fault."""
    found = etree.fromstring(response.content).find(f".//{{{SOAP_ENV}}}Fault/faultcode")
    return None if found is None else found.text.split(":", 1)[-1]


def answer(response: requests.Response, operation: str) -> etree._Element:
    """The <OperationResponse> element of a successful call."""
    assert response.status_code == 200, response.text
    return etree.fromstring(response.content).find(f".//{{{NAMESPACE}}}{operation}Response")


def child_text(element: etree._Element, name: str) -> str | None:
    return element.findtext(f"{{{NAMESPACE}}}{name}")
