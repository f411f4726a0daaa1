"""The developer page's test forms call the live API from a real browser."""
from __future__ import annotations

from tests.support.browser import BROWSER

pytestmark = BROWSER


def _form(page, path: str):
    page.goto("/developer/")
    return page.locator(f'form[data-path="{path}"]')


def test_get_templates_form_shows_the_xml_answer(page, customer, template_id):
    form = _form(page, "/REST.svc/Templates/")
    form.locator('input[name="ContactEmail"]').fill(customer.email)
    form.locator('input[name="ContactAPIkey"]').fill(customer.api_key)
    form.locator("button").click()

    answer = form.locator(".response")
    answer.filter(has_text="HTTP 200").wait_for()
    assert f"<TEMPLATEID>{template_id}</TEMPLATEID>" in answer.inner_text()


def test_post_image_form_places_an_order_and_the_status_form_finds_it(page, customer, template_id):
    form = _form(page, "/REST.svc/Image/")
    form.locator('input[name="ContactEmail"]').fill(customer.email)
    form.locator('input[name="ContactAPIkey"]').fill(customer.api_key)
    form.locator('input[name="templateId"]').fill(str(template_id))
    form.locator('input[name="ImageURL"]').fill("https://images.example/shirt.jpg")
    form.locator("button").click()
    answer = form.locator(".response")
    answer.filter(has_text="<IMAGETICKET>").wait_for()
    ticket = answer.inner_text().split("<IMAGETICKET>")[1].split("<")[0]
    assert '"ImageURL": "https://images.example/shirt.jpg"' in form.locator(".sent").inner_text()

    status = page.locator('form[data-path="/REST.svc/Image/Status/{ImageTicket}/"]')
    status.locator('input[name="ContactEmail"]').fill(customer.email)
    status.locator('input[name="ContactAPIkey"]').fill(customer.api_key)
    status.locator('input[name="ImageTicket"]').fill(ticket)
    status.locator("button").click()
    status.locator(".response").filter(has_text="<STATUSNAME>").wait_for()
    assert "<STATUSNAME>Received</STATUSNAME>" in status.locator(".response").inner_text()


def test_a_wrong_key_shows_the_error_envelope(page, customer):
    form = _form(page, "/REST.svc/Templates/")
    form.locator('input[name="ContactEmail"]').fill(customer.email)
    form.locator('input[name="ContactAPIkey"]').fill("wrong")
    page.expected_errors.append("status of 401")  # the answer the form is there to show
    form.locator("button").click()
    form.locator(".response").filter(has_text="HTTP 401").wait_for()
    assert "<ERRORCODE>invalidCredentials</ERRORCODE>" in form.locator(".response").inner_text()


def _fill(form, **fields: str) -> None:
    for name, value in fields.items():
        form.locator(f'input[name="{name}"]').fill(value)


def test_the_images_form_lists_an_order_and_the_cancel_form_cancels_it(page, client, customer, template_id):
    from tests.support.api import post_image, ticket_of

    ticket = ticket_of(post_image(client, customer, templateId=template_id, CustomerImageId="sku-5"))
    listing = _form(page, "/REST.svc/Images/")
    _fill(listing, ContactEmail=customer.email, ContactAPIkey=customer.api_key, StatusId="10")
    listing.locator("button").click()
    listing.locator(".response").filter(has_text="<IMAGETICKET>").wait_for()
    assert f"<IMAGETICKET>{ticket}</IMAGETICKET>" in listing.locator(".response").inner_text()

    cancel = page.locator('form[data-path="/REST.svc/Image/{ImageTicket}/"]')
    _fill(cancel, ContactEmail=customer.email, ContactAPIkey=customer.api_key, ImageTicket=ticket)
    cancel.locator("button").click()
    cancel.locator(".response").filter(has_text="<STATUSNAME>").wait_for()
    assert "<STATUSNAME>Cancelled</STATUSNAME>" in cancel.locator(".response").inner_text()
