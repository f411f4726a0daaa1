"""The review page's JSON endpoints: masks, region re-runs, lease, approve, reject, skip."""
from __future__ import annotations

import io
import random

from PIL import Image

from tests.support.dashboard import csrf_token, post_json


def _order(app, ticket):
    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket

    with app.app_context():
        order = order_by_ticket(ticket)
        db.session.expunge(order)
        return order


def _rgba_mask(size=(96, 64), noisy=False) -> bytes:
    """A canvas export: white, the mask in the alpha channel (left half kept)."""
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    image.paste((255, 255, 255, 255), (0, 0, size[0] // 2, size[1]))
    if noisy:  # incompressible pixels, so the PNG is larger than the API's 256 KiB body limit
        image.putdata([(255, 255, 255, random.Random(i).randrange(256)) for i in range(size[0] * size[1])])
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _save_mask(client, ticket, png):
    return client.post(f"/dashboard/api/orders/{ticket}/mask", data=png, content_type="image/png",
                       headers={"X-CSRFToken": csrf_token(client, "/dashboard/")})


def test_claim_next_answers_the_ticket_and_its_review_page(app, held):
    ticket, _other = held

    assert _order(app, ticket).status == 50


def test_saving_a_mask_stores_a_new_version_from_its_alpha(app, client, held, stored):
    ticket, _other = held

    response = _save_mask(client, ticket, _rgba_mask())

    assert response.json == {"version": 1}
    with Image.open(io.BytesIO(stored(_order(app, ticket).mask_path))) as mask:
        assert mask.getpixel((10, 10)) == 255 and mask.getpixel((80, 10)) == 0


def test_a_full_size_mask_larger_than_the_api_body_limit_is_accepted(app, client, held):
    from infrastructure.extensions import db
    from orders.models import Order

    ticket, _other = held
    from PIL import Image

    from infrastructure import storage

    with app.app_context():  # the same order as if its photo (and so its draft mask) were 600x400
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        buffer = io.BytesIO()
        Image.new("L", (600, 400)).save(buffer, "PNG")
        storage.write_bytes(order.mask_path, buffer.getvalue())
    png = _rgba_mask((600, 400), noisy=True)
    assert len(png) > app.config["MAX_REQUEST_BYTES"]

    assert _save_mask(client, ticket, png).json == {"version": 1}


def test_a_mask_without_the_csrf_header_is_refused(client, held):
    ticket, _other = held

    response = client.post(f"/dashboard/api/orders/{ticket}/mask", data=_rgba_mask(), content_type="image/png")

    assert response.status_code == 400 and response.json["error"] == "csrfRefused"


def test_a_mask_of_the_wrong_size_is_refused_with_the_reason(client, held):
    ticket, _other = held

    response = _save_mask(client, ticket, _rgba_mask((50, 50)))

    assert response.status_code == 400
    assert "the mask is 50x50, the image 96x64" in response.json["message"]


def test_the_versions_endpoint_lists_every_mask_version(client, held):
    ticket, _other = held
    _save_mask(client, ticket, _rgba_mask())

    answer = client.get(f"/dashboard/api/orders/{ticket}/versions").json

    assert answer["latest"] == 1
    assert [(v["number"], v["source"]) for v in answer["versions"]] == [(0, "model"), (1, "brush")]


def test_a_region_re_run_adds_a_version_once_the_worker_ran(client, held, run_jobs):
    ticket, _other = held

    response = post_json(client, f"/dashboard/api/orders/{ticket}/region", {"box": [0, 0, 48, 32]})
    run_jobs()

    assert response.status_code == 200 and response.json["job"]
    versions = client.get(f"/dashboard/api/orders/{ticket}/versions").json["versions"]
    assert versions[-1]["source"] == "region"


def test_a_region_box_must_be_four_numbers(client, held):
    ticket, _other = held

    response = post_json(client, f"/dashboard/api/orders/{ticket}/region", {"box": "everything"})

    assert response.status_code == 400 and "box must be" in response.json["message"]


def test_renewing_the_lease_answers_the_new_expiry(client, held):
    ticket, _other = held

    response = post_json(client, f"/dashboard/api/orders/{ticket}/renew")

    assert response.json["lease_expires_at"].endswith("Z")


def test_approving_sends_the_order_to_rendering(app, client, held):
    ticket, _other = held

    response = post_json(client, f"/dashboard/api/orders/{ticket}/approve")

    assert response.json == {"ticket": ticket, "status": 60}
    assert _order(app, ticket).status == 60


def test_approving_an_order_one_does_not_hold_is_refused(app, client, held):
    _ticket, other = held

    response = post_json(client, f"/dashboard/api/orders/{other}/approve")

    assert response.status_code == 400 and f"order {other} is not claimed by you" in response.json["message"]
    assert _order(app, other).status == 40


def test_rejecting_with_a_reason_shows_it_to_the_customer(app, client, customer, held):
    from tests.support.api import status_of

    ticket, _other = held

    response = post_json(client, f"/dashboard/api/orders/{ticket}/reject", {"reason": "resolutionTooLow"})

    assert response.json["status"] == 95
    assert status_of(client, customer, ticket).findtext("message") == "resolutionTooLow: Resolution too low"


def test_rejecting_for_another_reason_needs_a_note(app, client, held):
    ticket, _other = held

    response = post_json(client, f"/dashboard/api/orders/{ticket}/reject", {"reason": "other"})

    assert response.status_code == 400 and "needs a note" in response.json["message"]
    assert _order(app, ticket).status == 50


def test_skipping_gives_the_order_back_and_takes_the_next(app, client, held):
    ticket, other = held

    response = post_json(client, "/dashboard/api/claim-next", {"release": ticket})

    assert response.json == {"ticket": other, "url": f"/dashboard/review/{other}"}
    assert (_order(app, ticket).status, _order(app, other).status) == (40, 50)


def test_skipping_the_last_order_keeps_it(app, client, held):
    ticket, other = held
    post_json(client, "/dashboard/api/claim-next")  # now olga holds both

    response = post_json(client, "/dashboard/api/claim-next", {"release": ticket})

    assert response.json == {"ticket": None, "url": "/dashboard/"}
    assert _order(app, ticket).status == 50


def test_giving_an_order_back_returns_it_to_the_queue(app, client, held):
    ticket, _other = held

    post_json(client, f"/dashboard/api/orders/{ticket}/release")

    assert _order(app, ticket).status == 40


def test_a_mask_upload_over_64_mb_is_refused(client, held):
    ticket, _other = held

    response = _save_mask(client, ticket, b"\0" * (64 * 1024 * 1024 + 1))

    assert response.status_code == 413 and response.json["error"] == "requestTooLarge"


def test_other_endpoints_keep_the_small_body_limit(client, held):
    ticket, _other = held

    response = post_json(client, f"/dashboard/api/orders/{ticket}/reject", {"reason": "other", "note": "x" * 300_000})

    assert response.status_code == 413


def test_region_re_runs_of_one_order_are_capped_until_they_finish(app, client, held, run_jobs):
    ticket, _other = held
    app.config["MAX_REGION_JOBS_PER_ORDER"] = 2
    box = {"box": [0, 0, 48, 32]}

    answers = [post_json(client, f"/dashboard/api/orders/{ticket}/region", box).status_code for _ in range(3)]
    assert answers == [200, 200, 429]

    run_jobs()
    assert post_json(client, f"/dashboard/api/orders/{ticket}/region", box).status_code == 200
