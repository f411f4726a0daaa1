"""The developer page: overview, code tables and the test forms."""
from orders.codes import ErrorCode, Status


def test_developer_page_lists_every_operation_and_code(client):
    page = client.get("/developer/").get_data(as_text=True)

    for heading in ("GET Templates", "POST Image", "GET Status", "Webhook"):
        assert heading in page
    for status in Status:
        assert f"<td>{status.wire_name}</td>" in page
    for code in ErrorCode:
        assert f"<td>{code.value}</td>" in page


def test_developer_page_has_a_test_form_for_each_operation(client):
    page = client.get("/developer/").get_data(as_text=True)

    for path in ("/REST.svc/Templates/", "/REST.svc/Image/", "/REST.svc/Image/Status/{ImageTicket}/",
                 "/REST.svc/Images/", "/REST.svc/Image/{ImageTicket}/", "/REST.svc/Account/",
                 "/REST.svc/Statement/{Month}/", "/REST.svc/Image/{ImageTicket}/Reject/"):
        assert f'data-path="{path}"' in page
    assert client.get("/static/js/developer.js").status_code == 200


def test_published_schemas_are_served(client):
    for name in ("templates-response", "add-image-response", "image-status-response", "images-list-response",
                 "cancel-image-response", "reject-image-response", "account-response", "statement-response",
                 "error-response", "common"):
        assert client.get(f"/static/schemas/{name}.xsd").status_code == 200
