"""Reading API responses in tests: parse, and validate against the published XSDs."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

SCHEMAS = Path(__file__).resolve().parents[2] / "static" / "schemas"
_SCHEMA_FOR_ROOT = {
    "TEMPLATESRESPONSE": "templates-response.xsd",
    "ADDIMAGERESPONSE": "add-image-response.xsd",
    "IMAGESTATUSRESPONSE": "image-status-response.xsd",
    "IMAGESLISTRESPONSE": "images-list-response.xsd",
    "CANCELIMAGERESPONSE": "cancel-image-response.xsd",
    "REJECTIMAGERESPONSE": "reject-image-response.xsd",
    "ACCOUNTRESPONSE": "account-response.xsd",
    "STATEMENTRESPONSE": "statement-response.xsd",
    "ERRORRESPONSE": "error-response.xsd",
}


@cache
def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def parse_valid(response) -> etree._Element:
    """The XML body, after checking the content type and the XSD of its root."""
    assert response.content_type.startswith("application/xml"), response.content_type
    doc = etree.fromstring(response.data)
    xsd = schema(_SCHEMA_FOR_ROOT[doc.tag])
    assert xsd.validate(doc), xsd.error_log
    return doc


def error_code(response) -> str:
    return parse_valid(response).findtext("ERRORCODE")


def post_image(client, account, **fields):
    body = {**account.creds(), "ImageURL": "http://images.example/cat.jpg", **fields}
    return client.post("/REST.svc/Image/", json=body)


def ticket_of(response) -> str:
    doc = parse_valid(response)
    assert doc.findtext("ERRORCODE") == "noError", doc.findtext("message")
    return doc.findtext("IMAGETICKET")


def status_of(client, account, ticket: str) -> etree._Element:
    response = client.get(f"/REST.svc/Image/Status/{ticket}/", query_string=account.creds())
    return parse_valid(response)
