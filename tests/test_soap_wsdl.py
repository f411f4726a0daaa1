"""The WSDL at /SOAP.svc?wsdl: well-formed, a valid embedded XML Schema, stable names and address."""
import pytest
import requests
from lxml import etree

from soap import NAMESPACE
from tests.support.soap import answer, envelope, post

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"


@pytest.fixture
def wsdl(live_server) -> etree._Element:
    response = requests.get(live_server.wsdl_url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    return etree.fromstring(response.content)


@pytest.fixture
def schema(wsdl) -> etree.XMLSchema:
    (embedded,) = wsdl.iterfind(f"{{{WSDL}}}types/{{{XS}}}schema")
    # Written out on its own the schema carries the WSDL's namespace declarations,
    # which its type="tns:..." references need, as any client extracting it does.
    return etree.XMLSchema(etree.fromstring(etree.tostring(embedded)))


def test_wsdl_has_the_documented_target_namespace(wsdl):
    assert wsdl.get("targetNamespace") == NAMESPACE == "urn:clipping-orders:soap:v1"


OPERATIONS = {"GetTemplates", "AddImage", "GetImageStatus", "GetImagesList", "CancelImage", "GetAccount",
              "GetStatement", "RejectProcessedImage"}


def test_wsdl_offers_every_operation(wsdl):
    operations = {op.get("name") for op in wsdl.iterfind(f"{{{WSDL}}}portType/{{{WSDL}}}operation")}
    assert operations == OPERATIONS


def test_wsdl_names_the_reference_fields(schema, wsdl):
    def children(type_name: str) -> list[str]:
        found = wsdl.find(f".//{{{XS}}}complexType[@name='{type_name}']")
        return [e.get("name") for e in found.iterfind(f".//{{{XS}}}element")]

    assert children("GetTemplates") == ["ContactEmail", "ContactAPIkey"]
    assert children("AddImage") == ["ContactEmail", "ContactAPIkey", "DeveloperAPIkey", "TemplateId", "ImageURL",
                                    "ImageURL2", "ImageRequestedDeliveryTimeInHours", "ImageCallbackURL",
                                    "IdempotencyKey", "CustomerImageId", "ProductId", "Instructions", "Test"]
    assert children("GetImageStatus") == ["ContactEmail", "ContactAPIkey", "ImageTicket"]
    assert children("GetTemplatesResponse") == ["ErrorCode", "Message", "Templates"]
    assert children("AddImageResponse") == ["ErrorCode", "Message", "ImageTicket"]
    assert children("GetImageStatusResponse") == ["ErrorCode", "Message", "ImageStatus"]
    assert children("Template") == ["Price", "TemplateId", "TemplateName"]
    assert children("Price") == ["Amount", "CurrencyId"]
    assert children("ImageStatus") == ["FinalImageURL", "ImageTicket", "StatusId", "StatusName", "CustomerImageId"]
    assert children("GetImagesList") == ["ContactEmail", "ContactAPIkey", "StatusId", "From", "To",
                                         "CustomerImageId", "Page", "PerPage"]
    assert children("ImagesList") == ["Total", "Page", "PerPage", "Images"]
    assert children("ImageSummary") == ["ImageTicket", "CustomerImageId", "StatusId", "StatusName", "Created", "Due",
                                        "FinalImageURL"]
    assert children("CancelImage") == ["ContactEmail", "ContactAPIkey", "ImageTicket"]
    assert children("RejectProcessedImage") == ["ContactEmail", "ContactAPIkey", "ImageTicket", "Comment",
                                                "MarkupImageURL"]
    assert children("GetStatement") == ["ContactEmail", "ContactAPIkey", "Month"]
    assert children("Account") == ["Email", "Month", "Orders", "AmountsDue", "Commissions"]
    assert children("StatementLine") == ["ImageTicket", "CustomerImageId", "Delivered", "TemplateId", "Amount",
                                         "CurrencyId"]


def test_answers_are_valid_against_the_wsdl_schema(live_server, schema, customer, template_id):
    response = post(live_server, envelope("GetTemplates", ContactEmail=customer.email, ContactAPIkey=customer.api_key))
    templates = answer(response, "GetTemplates")

    assert schema.validate(templates), schema.error_log


def test_list_answers_are_valid_against_the_wsdl_schema(live_server, schema, customer, template_id):
    post(live_server, envelope("AddImage", ContactEmail=customer.email, ContactAPIkey=customer.api_key,
                               ImageURL="http://images.example/a.jpg"))
    response = post(live_server, envelope("GetImagesList", ContactEmail=customer.email,
                                          ContactAPIkey=customer.api_key))
    assert schema.validate(answer(response, "GetImagesList")), schema.error_log


def test_error_answers_are_valid_against_the_wsdl_schema(live_server, schema, customer):
    response = post(live_server, envelope("GetImageStatus", ContactEmail=customer.email, ContactAPIkey="x"))
    assert schema.validate(answer(response, "GetImageStatus")), schema.error_log


def test_wsdl_address_is_the_public_base_url(live_server, wsdl):
    (address,) = wsdl.iterfind(f".//{{{WSDL_SOAP}}}address")
    assert address.get("location") == live_server.soap_url


def test_a_forged_host_header_does_not_change_the_address(live_server):
    forged = requests.get(live_server.wsdl_url, headers={"Host": "evil.example"}, timeout=10)
    honest = requests.get(live_server.wsdl_url, timeout=10)

    for response in (forged, honest):
        (address,) = etree.fromstring(response.content).iterfind(f".//{{{WSDL_SOAP}}}address")
        assert address.get("location") == live_server.soap_url
