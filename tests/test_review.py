"""Review rules: the queue, claims and leases, mask versions, approve and reject."""
from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from PIL import Image

from tests.support.api import status_of


@pytest.fixture
def op(app, make_operator):
    """Run fn(operator, *args) in an app context as the named operator."""

    def call(name, fn, *args, **kwargs):
        from orders import operators

        with app.app_context():
            return fn(operators.operator_by_name(name), *args, **kwargs)

    return call


def _order(app, ticket):
    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket

    with app.app_context():
        order = order_by_ticket(ticket)
        db.session.expunge(order)
        return order


def _png(size, value=255, mode="L") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, value).save(buffer, "PNG")
    return buffer.getvalue()


def test_claim_next_gives_the_soonest_due_order_first(app, reviewable, make_operator, op):
    from orders import review

    later = reviewable(1, ImageRequestedDeliveryTimeInHours="48")[0]
    sooner = reviewable(1, ImageRequestedDeliveryTimeInHours="2")[0]
    make_operator()

    assert op("olga", review.claim_next).ticket == sooner
    assert op("olga", review.claim_next).ticket == later


def test_among_equally_due_orders_the_least_confident_draft_comes_first(app, reviewable, make_operator, op):
    from infrastructure.extensions import db
    from orders import review
    from orders.models import Order

    sure, unsure = reviewable(2)
    with app.app_context():
        due = db.session.scalar(db.select(Order.due_at).where(Order.ticket == sure))
        # Both above HARD_DRAFT_CONFIDENCE: a hard draft goes to an operator last (tests/test_routing.py).
        for ticket, confidence in ((sure, 0.99), (unsure, 0.90)):
            order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
            order.draft_confidence, order.due_at = confidence, due
        db.session.commit()
    make_operator()

    assert op("olga", review.claim_next).ticket == unsure


def test_claiming_moves_the_order_to_in_review_with_a_lease(app, client, customer, reviewable, make_operator, op):
    from orders import review

    ticket = reviewable(1)[0]
    make_operator()
    op("olga", review.claim_next)

    order = _order(app, ticket)
    assert order.status == 50 and order.lease_expires_at is not None
    assert status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSNAME") == "In review"


def test_empty_queue_gives_nothing_to_claim(app, make_operator, op):
    from orders import review

    make_operator()
    assert op("olga", review.claim_next) is None


def test_an_order_held_by_one_operator_is_refused_to_another(app, reviewable, make_operator, op):
    from orders import review
    from orders.errors import ServiceError

    ticket = reviewable(1)[0]
    make_operator("olga"), make_operator("piet")
    op("olga", review.claim, ticket)

    with pytest.raises(ServiceError, match="being reviewed by olga"):
        op("piet", review.claim, ticket)
    with pytest.raises(ServiceError):
        op("piet", review.approve, ticket)


def test_an_expired_lease_returns_the_order_to_the_queue(app, reviewable, make_operator, op):
    from infrastructure.extensions import db
    from orders import review
    from orders.models import Order, utcnow

    ticket = reviewable(1)[0]
    make_operator("olga"), make_operator("piet")
    op("olga", review.claim, ticket)
    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        order.lease_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()

    assert op("piet", review.claim_next).ticket == ticket
    events = [(e.from_status, e.to_status, e.actor) for e in _events(app, ticket)]
    assert (50, 40, "system:lease") in events


def _events(app, ticket):
    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket

    with app.app_context():
        events = order_by_ticket(ticket).events
        db.session.expunge_all()
        return events


def test_renewing_extends_the_lease(app, reviewable, make_operator, op):
    from orders import review

    ticket = reviewable(1)[0]
    make_operator()
    op("olga", review.claim, ticket)
    before = _order(app, ticket).lease_expires_at
    app.config["REVIEW_LEASE_SECONDS"] = 3600

    assert op("olga", review.renew_lease, ticket) > before


def test_release_gives_the_order_back(app, reviewable, make_operator, op):
    from orders import review

    ticket = reviewable(1)[0]
    make_operator()
    op("olga", review.claim, ticket)
    op("olga", review.release, ticket)

    assert _order(app, ticket).status == 40 and _order(app, ticket).claimed_by_id is None


def test_saving_a_mask_adds_a_version_and_keeps_the_draft(app, reviewable, make_operator, op, stored):
    from orders import review

    ticket = reviewable(1)[0]
    make_operator()
    op("olga", review.claim, ticket)
    draft_path = _order(app, ticket).mask_path

    version = op("olga", review.save_mask, ticket, _png((96, 64), 255))

    order = _order(app, ticket)
    assert version.number == 1 and version.source == "brush"
    assert order.mask_path == version.path != draft_path
    assert Image.open(io.BytesIO(stored(order.mask_path))).getextrema() == (255, 255)
    assert Image.open(io.BytesIO(stored(draft_path))).getextrema() != (255, 255)  # the draft is untouched


def test_an_rgba_canvas_export_saves_its_alpha_as_the_mask(app, reviewable, make_operator, op, stored):
    from orders import review

    ticket = reviewable(1)[0]
    make_operator()
    op("olga", review.claim, ticket)
    rgba = Image.new("RGBA", (96, 64), (0, 0, 0, 0))
    rgba.paste((0, 0, 0, 255), (0, 0, 48, 64))
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")

    op("olga", review.save_mask, ticket, buffer.getvalue())
    mask = Image.open(io.BytesIO(stored(_order(app, ticket).mask_path)))
    assert mask.getpixel((10, 10)) == 255 and mask.getpixel((90, 10)) == 0


@pytest.mark.parametrize("body, message", [
    (_png((10, 10)), "the mask is 10x10, the image 96x64"),
    (b"not a png", "must be a PNG"),
])
def test_a_bad_mask_is_refused(app, reviewable, make_operator, op, body, message):
    from orders import review
    from orders.errors import ServiceError

    ticket = reviewable(1)[0]
    make_operator()
    op("olga", review.claim, ticket)
    with pytest.raises(ServiceError, match=message):
        op("olga", review.save_mask, ticket, body)


def test_approving_sends_the_order_to_rendering(app, reviewable, make_operator, op):
    from orders import review

    ticket = reviewable(1)[0]
    make_operator()
    op("olga", review.claim, ticket)
    op("olga", review.approve, ticket)

    assert _order(app, ticket).status == 60
    assert [(e.from_status, e.to_status) for e in _events(app, ticket)][-1] == (50, 60)


def test_rejecting_tells_the_customer_why(app, client, customer, reviewable, make_operator, op):
    from orders import review

    ticket = reviewable(1)[0]
    make_operator()
    op("olga", review.claim, ticket)
    op("olga", review.reject, ticket, "notProductPhoto")

    doc = status_of(client, customer, ticket)
    assert doc.findtext("IMAGESTATUS/STATUSNAME") == "Rejected"
    assert doc.findtext("message") == "notProductPhoto: Not a product photo"


def test_reject_for_another_reason_needs_a_note(app, reviewable, make_operator, op):
    from orders import review
    from orders.errors import ServiceError

    ticket = reviewable(1)[0]
    make_operator()
    op("olga", review.claim, ticket)
    with pytest.raises(ServiceError, match="needs a note"):
        op("olga", review.reject, ticket, "other")
    with pytest.raises(ServiceError, match="unknown reject reason"):
        op("olga", review.reject, ticket, "ugly")
    op("olga", review.reject, ticket, "other", "watermark across the product")
    assert _order(app, ticket).failure_message == "watermark across the product"


def test_bulk_approve_takes_only_orders_still_awaiting_review(app, reviewable, make_operator, op):
    from orders import review

    free, held = reviewable(2)
    make_operator("olga"), make_operator("piet")
    op("piet", review.claim, held)

    assert op("olga", review.bulk_approve, [free, held]) == [free]
    assert _order(app, free).status == 60 and _order(app, held).status == 50


def test_time_per_order_is_recorded(app, reviewable, make_operator, op):
    from infrastructure.extensions import db
    from orders import review
    from orders.models import ReviewSession

    ticket = reviewable(1)[0]
    make_operator()
    op("olga", review.claim, ticket)
    op("olga", review.save_mask, ticket, _png((96, 64)))
    op("olga", review.approve, ticket)
    with app.app_context():
        session = db.session.scalar(db.select(ReviewSession))
        assert session.outcome == "approved" and session.edits == 1
        assert session.ended_at >= session.started_at


def test_region_rerun_adds_a_model_made_version(app, reviewable, make_operator, op, run_jobs):
    from orders import review

    ticket = reviewable(1)[0]
    make_operator()
    op("olga", review.claim, ticket)
    op("olga", review.request_region, ticket, (0, 0, 48, 32))
    run_jobs()

    with app.app_context():
        versions = [(v.number, v.source) for v in review.order_by_ticket(ticket).mask_versions]
    assert versions == [(0, "model"), (1, "region")]


def test_a_region_outside_the_image_is_refused(app, reviewable, make_operator, op):
    from orders import review
    from orders.errors import ServiceError

    ticket = reviewable(1)[0]
    make_operator()
    op("olga", review.claim, ticket)
    with pytest.raises(ServiceError, match="at least 8x8"):
        op("olga", review.request_region, ticket, (500, 500, 600, 600))


def test_concurrent_claims_never_give_one_order_to_two_operators(app, backend, reviewable, make_operator):
    from orders import operators, review

    tickets = set(reviewable(12))
    names = [make_operator(f"op{i}") for i in range(6)]
    claimed: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(names))

    def work(name: str) -> None:
        with app.app_context():
            operator = operators.operator_by_name(name)
            start.wait()
            while (order := review.claim_next(operator)) is not None:
                with lock:
                    claimed.append(order.ticket)

    threads = [threading.Thread(target=work, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(claimed) == sorted(tickets)  # every order claimed exactly once


def test_an_exif_rotated_photo_takes_an_upright_mask_and_region(app, client, customer, template_id, image_server,
                                                                run_jobs, make_operator, op):
    from orders import review

    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape 96x64, shown portrait 64x96
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), "white").save(buffer, "JPEG", exif=exif.tobytes())
    url = image_server.serve_bytes("/rotated.jpg", buffer.getvalue(), "image/jpeg")
    from tests.support.api import post_image, ticket_of

    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    run_jobs()
    make_operator()
    op("olga", review.claim, ticket)

    assert op("olga", review.save_mask, ticket, _png((64, 96))).number == 1
    op("olga", review.request_region, ticket, (0, 60, 64, 96))  # inside the upright 64x96 frame
