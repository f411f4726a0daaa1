"""Every answer tells browsers not to sniff its type; customers' files also may run nothing."""
from __future__ import annotations

import pytest

from tests.support.api import post_image, status_of, ticket_of
from tests.support.pictures import encode


@pytest.mark.parametrize("path", ["/REST.svc/Templates/", "/developer/", "/dashboard/login", "/SOAP.svc?wsdl",
                                  "/static/css/site.css", "/no/such/page"])
def test_every_answer_says_nosniff(client, path):
    assert client.get(path).headers.get("X-Content-Type-Options") == "nosniff"


@pytest.fixture
def delivered_svg(app, client, customer, make_template, image_server, run_jobs, make_operator):
    """The URL path of the SVG clipping path delivered beside a JPEG final."""
    make_operator("olga")
    template = make_template(format="jpg")
    url = image_server.serve_bytes("/shirt.jpg", encode("JPEG", (96, 64)), "image/jpeg")
    ticket = ticket_of(post_image(client, customer, templateId=template, ImageURL=url))
    run_jobs()
    approved = app.test_cli_runner().invoke(args=["review", "approve", ticket, "--operator", "olga"])
    assert approved.exit_code == 0, approved.output
    run_jobs()
    final = status_of(client, customer, ticket).findtext("IMAGESTATUS/FINALIMAGEURL")
    return final.replace("http://testserver.example", "").replace("/shirt.jpg", "/shirt.svg")


def test_a_delivered_svg_is_served_sandboxed_with_no_script_or_loads(client, delivered_svg):
    answer = client.get(delivered_svg)

    assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
