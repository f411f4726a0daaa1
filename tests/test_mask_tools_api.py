"""The review page's mask tools over the JSON API: cleanup, refine (keep/remove markers), matte."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.support.dashboard import post_json


@pytest.fixture
def put_files(app):
    """Replace an order's latest mask (and optionally its original) with the test's own arrays."""

    def put(ticket: str, mask: np.ndarray, image: np.ndarray | None = None) -> None:
        from infrastructure import storage
        from orders.lookups import order_by_ticket

        with app.app_context():
            order = order_by_ticket(ticket)
            storage.write_bytes(order.mask_path, _png(Image.fromarray(mask, "L")))
            if image is not None:
                storage.write_bytes(order.original_path, _png(Image.fromarray(image, "RGB")))

    return put


@pytest.fixture
def latest_mask(app, stored):
    def read(ticket: str) -> np.ndarray:
        from orders.lookups import order_by_ticket

        with app.app_context():
            path = order_by_ticket(ticket).mask_path
        with Image.open(io.BytesIO(stored(path))) as image:
            return np.asarray(image.convert("L"))

    return read


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _call(client, ticket: str, tool: str, body: dict):
    return post_json(client, f"/dashboard/api/orders/{ticket}/{tool}", body)


# --- cleanup ---------------------------------------------------------------------------


def test_cleanup_stores_a_new_version_marked_cleanup(client, held):
    ticket, _other = held

    response = _call(client, ticket, "cleanup", {"fill_holes": 10, "base_version": 0})

    assert response.json == {"version": 1}
    versions = client.get(f"/dashboard/api/orders/{ticket}/versions").json["versions"]
    assert versions[-1]["source"] == "cleanup"


def test_cleanup_fills_a_small_hole_in_the_latest_mask(client, held, put_files, latest_mask):
    ticket, _other = held
    mask = np.full((64, 96), 255, np.uint8)
    mask[30:33, 40:43] = 0
    put_files(ticket, mask)

    _call(client, ticket, "cleanup", {"fill_holes": 20, "base_version": 0})

    assert (latest_mask(ticket) == 255).all()


def test_cleanup_on_a_version_no_longer_the_latest_is_refused(client, held):
    ticket, _other = held
    _call(client, ticket, "cleanup", {"grow": 1, "base_version": 0})

    response = _call(client, ticket, "cleanup", {"grow": 1, "base_version": 0})

    assert response.status_code == 409
    assert response.json["error"] == "staleVersion" and response.json["latest"] == 1


def test_cleanup_of_an_order_one_does_not_hold_is_refused(client, held):
    _ticket, other = held

    response = _call(client, other, "cleanup", {"grow": 1, "base_version": 0})

    assert response.status_code == 400 and f"order {other} is not claimed by you" in response.json["message"]


def test_cleanup_of_an_unknown_order_answers_404(client, held):
    response = _call(client, "NOSUCHTICKET", "cleanup", {"grow": 1, "base_version": 0})

    assert response.status_code == 404


def test_cleanup_needs_the_base_version(client, held):
    ticket, _other = held

    response = _call(client, ticket, "cleanup", {"grow": 1})

    assert response.status_code == 400 and "base_version" in response.json["message"]


def test_a_cleanup_radius_out_of_range_is_refused_with_the_range(client, held):
    ticket, _other = held

    response = _call(client, ticket, "cleanup", {"grow": 1000, "base_version": 0})

    assert response.status_code == 400 and response.json["message"] == "grow must be a number from -100 to 100"


# --- cleanup settings, per operator ----------------------------------------------------------


def _settings_on_the_review_page(client, ticket: str) -> dict:
    import html
    import json
    import re

    page = client.get(f"/dashboard/review/{ticket}").get_data(as_text=True)
    return json.loads(html.unescape(re.search(r"data-cleanup='([^']*)'", page).group(1)))["values"]


def _remember(client, body: dict):
    return post_json(client, "/dashboard/api/settings/cleanup", body)


def test_an_operator_starts_with_the_default_cleanup_settings(client, held):
    ticket, _other = held

    assert _settings_on_the_review_page(client, ticket) == {"fill_holes": 100, "remove_islands": 100,
                                                            "keep_largest": 0, "smooth": 0, "grow": 0}


def test_cleanup_settings_changed_once_are_there_at_the_next_sign_in(app, client, held):
    from tests.support.dashboard import sign_in

    ticket, _other = held
    answer = _remember(client, {"fill_holes": 20, "grow": -3})
    assert answer.status_code == 200 and answer.json["cleanup"]["fill_holes"] == 20

    elsewhere = app.test_client()  # another browser: a session of its own
    sign_in(elsewhere, "olga")
    settings = _settings_on_the_review_page(elsewhere, ticket)
    assert (settings["fill_holes"], settings["grow"], settings["remove_islands"]) == (20, -3, 100)


def test_cleanup_settings_are_each_operator_s_own(app, client, held, make_operator, reviewable):
    from tests.support.dashboard import sign_in

    _remember(client, {"fill_holes": 20})
    make_operator("otto")
    other = app.test_client()
    sign_in(other, "otto")
    ticket = post_json(other, "/dashboard/api/claim-next").json["ticket"]

    assert _settings_on_the_review_page(other, ticket)["fill_holes"] == 100


def test_a_cleanup_setting_out_of_range_is_refused_and_nothing_is_stored(client, held):
    ticket, _other = held

    response = _remember(client, {"fill_holes": 20, "smooth": 500})

    assert response.status_code == 400 and response.json["message"] == "smooth must be a number from 0 to 100"
    assert _settings_on_the_review_page(client, ticket)["fill_holes"] == 100


# --- refine ----------------------------------------------------------------------------


def test_a_keep_stroke_adds_the_missed_part_as_a_new_version(client, held, put_files, latest_mask):
    from tests.support.mask_cases import iou, missed_arm_case

    ticket, _other = held
    case = missed_arm_case()
    put_files(ticket, case.model_mask, case.image)

    response = _call(client, ticket, "refine", {"strokes": [{"mode": "keep", "radius": 3, "points": [[200, 100]]}],
                                                "base_version": 0})

    assert response.json == {"version": 1}
    assert iou(latest_mask(ticket), case.exact_alpha) > 0.98
    assert client.get(f"/dashboard/api/orders/{ticket}/versions").json["versions"][-1]["source"] == "refine"


def test_refine_on_a_stale_version_is_refused(client, held):
    ticket, _other = held
    body = {"strokes": [{"mode": "keep", "radius": 3, "points": [[10, 10]]}], "base_version": 0}
    _call(client, ticket, "refine", body)

    assert _call(client, ticket, "refine", body).status_code == 409


def test_refine_of_an_order_one_does_not_hold_is_refused(client, held):
    _ticket, other = held
    body = {"strokes": [{"mode": "keep", "radius": 3, "points": [[10, 10]]}], "base_version": 0}

    assert _call(client, other, "refine", body).status_code == 400


def test_a_stroke_of_an_unknown_mode_is_refused_with_the_modes(client, held):
    ticket, _other = held
    body = {"strokes": [{"mode": "paint", "radius": 3, "points": [[10, 10]]}], "base_version": 0}

    response = _call(client, ticket, "refine", body)

    assert response.status_code == 400 and response.json["message"] == "mode must be 'keep' or 'remove'"


def test_a_brush_radius_out_of_range_is_refused(client, held):
    ticket, _other = held
    body = {"strokes": [{"mode": "keep", "radius": 0, "points": [[10, 10]]}], "base_version": 0}

    response = _call(client, ticket, "refine", body)

    assert response.status_code == 400 and "radius must be a number from 1 to 200" in response.json["message"]


def test_too_many_points_are_refused(client, held):
    ticket, _other = held
    body = {"strokes": [{"mode": "keep", "radius": 3, "points": [[1, 1]] * 5001}], "base_version": 0}

    response = _call(client, ticket, "refine", body)

    assert response.status_code == 400 and "1 to 5000" in response.json["message"]


def test_a_point_must_be_two_numbers(client, held):
    ticket, _other = held
    body = {"strokes": [{"mode": "keep", "radius": 3, "points": [[1, "a"]]}], "base_version": 0}

    response = _call(client, ticket, "refine", body)

    assert response.status_code == 400 and response.json["message"] == "each point must be [x, y] in image pixels"


# --- matte -----------------------------------------------------------------------------


def test_matting_a_band_stores_soft_alpha_there_and_nothing_else_changes(client, held, put_files, latest_mask):
    from masktools.strokes import Stroke, draw
    from tests.support.mask_cases import hair_case

    ticket, _other = held
    case = hair_case((64, 96))
    put_files(ticket, case.model_mask, case.image)

    response = _call(client, ticket, "matte", {"radius": 11, "points": [[0, 50], [95, 50]], "base_version": 0})

    assert response.json == {"version": 1}
    after = latest_mask(ticket)
    outside = ~draw([Stroke("matte", 11, ((0, 50), (95, 50)))], after.shape)
    assert (after[outside] == case.model_mask[outside]).all()
    assert 64 < after[50, 4] < 192


def test_matte_on_a_stale_version_is_refused(client, held):
    ticket, _other = held
    body = {"radius": 5, "points": [[10, 10]], "base_version": 0}
    _call(client, ticket, "matte", body)

    assert _call(client, ticket, "matte", body).status_code == 409


def test_a_matte_radius_over_100_is_refused(client, held):
    ticket, _other = held

    response = _call(client, ticket, "matte", {"radius": 101, "points": [[10, 10]], "base_version": 0})

    assert response.status_code == 400 and "radius must be a number from 1 to 100" in response.json["message"]
