"""Numbers that are not plain ASCII decimals, or not finite, answer invalidParameter / 400, never a 500."""
from __future__ import annotations

import pytest

from tests.support.api import error_code, post_image
from tests.support.dashboard import post_json, sign_in


@pytest.mark.parametrize("value", ["²", "٣", "1²", "１２"])
def test_a_template_id_of_other_digits_is_an_invalid_parameter(client, customer, value):
    response = post_image(client, customer, templateId=value)

    assert response.status_code == 400 and error_code(response) == "invalidParameter"


@pytest.mark.parametrize("value", ["²", "٢٤"])
def test_delivery_hours_of_other_digits_are_an_invalid_parameter(client, customer, template_id, value):
    response = post_image(client, customer, templateId=template_id, ImageRequestedDeliveryTimeInHours=value)

    assert response.status_code == 400 and error_code(response) == "invalidParameter"


def test_a_queue_filter_of_other_digits_is_ignored(client, make_operator):
    make_operator()
    sign_in(client, "olga")

    assert client.get("/dashboard/?customer=%C2%B2&template=%D9%A3").status_code == 200


@pytest.fixture
def held(client, reviewable, make_operator):
    tickets = reviewable(1)
    make_operator()
    sign_in(client, "olga")
    assert post_json(client, "/dashboard/api/claim-next").json["ticket"] == tickets[0]
    return tickets[0]


@pytest.mark.parametrize("box", [[0, 0, float("inf"), 10], [0, float("nan"), 10, 10], [0, 0, True, 10]])
def test_a_region_box_that_is_not_finite_numbers_is_refused(client, held, box):
    response = post_json(client, f"/dashboard/api/orders/{held}/region", {"box": box})

    assert response.status_code == 400 and "box must be" in response.json["message"]
