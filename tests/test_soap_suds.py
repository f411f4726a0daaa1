"""A second, independent SOAP client (suds-community) reads the WSDL and calls every operation."""
from decimal import Decimal


def test_suds_lists_the_templates(suds_client, customer, make_template):
    template = make_template(name="T-shirts", price="0.95", currency_id=1)

    answer = suds_client.service.GetTemplates(customer.email, customer.api_key)

    assert answer.ErrorCode == "noError"
    (listed,) = answer.Templates.Template
    assert (listed.TemplateId, listed.TemplateName) == (template, "T-shirts")
    assert (Decimal(str(listed.Price.Amount)), listed.Price.CurrencyId) == (Decimal("0.95"), 1)


def test_suds_orders_and_polls_an_image(suds_client, customer, template_id):
    added = suds_client.service.AddImage(ContactEmail=customer.email, ContactAPIkey=customer.api_key,
                                         TemplateId=str(template_id), ImageURL="https://images.example/a.png")
    assert added.ErrorCode == "noError"

    answer = suds_client.service.GetImageStatus(customer.email, customer.api_key, added.ImageTicket)

    assert answer.ErrorCode == "noError"
    assert (answer.ImageStatus.ImageTicket, answer.ImageStatus.StatusId) == (added.ImageTicket, 10)


def test_suds_gets_application_errors_as_answers(suds_client, customer):
    answer = suds_client.service.GetImageStatus(customer.email, customer.api_key, "no-such-ticket")
    assert answer.ErrorCode == "unknownTicket"


def test_suds_lists_images(suds_client, customer, template_id):
    added = suds_client.service.AddImage(ContactEmail=customer.email, ContactAPIkey=customer.api_key,
                                         TemplateId=str(template_id), ImageURL="https://images.example/a.png",
                                         CustomerImageId="sku-1")

    answer = suds_client.service.GetImagesList(ContactEmail=customer.email, ContactAPIkey=customer.api_key)

    assert answer.ErrorCode == "noError"
    (listed,) = answer.ImagesList.Images.ImageSummary
    assert (listed.ImageTicket, listed.CustomerImageId, listed.StatusId) == (added.ImageTicket, "sku-1", 10)
