"""GetImagesList and CancelImage over SOAP (zeep, real HTTP), and AddImage's customer fields."""
from __future__ import annotations

import uuid
from datetime import UTC


def _creds(account) -> dict[str, str]:
    return {"ContactEmail": account.email, "ContactAPIkey": account.api_key}


def _add(zeep_client, account, **fields) -> str:
    answer = zeep_client.service.AddImage(**{**_creds(account), "ImageURL": "http://images.example/cat.jpg",
                                             **fields})
    assert answer.ErrorCode == "noError", answer.Message
    return answer.ImageTicket


def test_add_image_keeps_the_customer_s_reference_for_status(zeep_client, customer, template_id):
    ticket = _add(zeep_client, customer, CustomerImageId="sku-9", ProductId="p-1", Instructions="keep the tag")

    status = zeep_client.service.GetImageStatus(customer.email, customer.api_key, ticket)

    assert status.ImageStatus.CustomerImageId == "sku-9"


def test_images_list_answers_the_customer_s_orders_newest_first(zeep_client, customer, template_id):
    tickets = [_add(zeep_client, customer, CustomerImageId=f"sku-{n}") for n in range(3)]

    answer = zeep_client.service.GetImagesList(**_creds(customer), PerPage="2")

    assert answer.ErrorCode == "noError"
    listed = answer.ImagesList
    assert (listed.Total, listed.Page, listed.PerPage) == (3, 1, 2)
    images = listed.Images.ImageSummary
    assert [i.ImageTicket for i in images] == tickets[::-1][:2]
    assert (images[0].CustomerImageId, images[0].StatusId, images[0].StatusName) == ("sku-2", 10, "Received")
    assert images[0].Created.tzinfo is not None and images[0].Created.utcoffset() == UTC.utcoffset(None)


def test_images_list_refuses_bad_paging_as_rest_does(zeep_client, customer):
    answer = zeep_client.service.GetImagesList(**_creds(customer), Page="0")

    assert answer.ErrorCode == "invalidParameter" and answer.ImagesList is None


def test_cancel_image_cancels_a_received_order(zeep_client, customer, template_id):
    ticket = _add(zeep_client, customer)

    answer = zeep_client.service.CancelImage(customer.email, customer.api_key, ticket)

    assert answer.ErrorCode == "noError"
    assert (answer.Image.StatusId, answer.Image.StatusName) == (97, "Cancelled")


def test_cancel_image_twice_is_not_cancellable(zeep_client, customer, template_id):
    ticket = _add(zeep_client, customer)
    zeep_client.service.CancelImage(customer.email, customer.api_key, ticket)

    answer = zeep_client.service.CancelImage(customer.email, customer.api_key, ticket)

    assert answer.ErrorCode == "notCancellable" and answer.Image is None


def test_cancel_image_of_an_unknown_ticket_is_unknown_ticket(zeep_client, customer):
    answer = zeep_client.service.CancelImage(customer.email, customer.api_key, str(uuid.uuid4()))

    assert answer.ErrorCode == "unknownTicket"
