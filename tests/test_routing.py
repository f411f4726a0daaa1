"""Hard drafts: marked from the draft's confidence, routed by claim-next to seniors first."""
from __future__ import annotations

import pytest

from tests.support.pictures import encode


@pytest.fixture
def take(app):
    """claim_next as the named operator; returns the ticket given."""

    def call(name: str) -> str | None:
        from orders import operators, review

        with app.app_context():
            order = review.claim_next(operators.operator_by_name(name))
            return order.ticket if order else None

    return call


@pytest.fixture
def easy_and_hard(app, reviewable):
    """Two orders due alike; the second's draft is hard (confidence 0.40 < 0.85)."""
    from infrastructure.extensions import db
    from orders.models import Order

    easy, hard = reviewable(2)
    with app.app_context():
        due = db.session.scalar(db.select(Order.due_at).where(Order.ticket == easy))
        for ticket, confidence in ((easy, 0.99), (hard, 0.40)):
            order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
            order.draft_confidence, order.due_at = confidence, due
        db.session.commit()
    return easy, hard


def test_an_undecided_draft_is_hard_and_a_crisp_one_is_not(app, box_segmenter, soft_segmenter):
    from orders import qa
    from orders.models import Order
    from segmentation.draft import make_draft

    source = encode("PNG", (96, 64))
    with app.app_context():
        assert qa.is_hard(Order(draft_confidence=make_draft(soft_segmenter, source).confidence))
        assert not qa.is_hard(Order(draft_confidence=make_draft(box_segmenter, source).confidence))


def test_the_box_model_s_drafts_wait_unmarked(app, reviewable):
    from orders import qa
    from orders.lookups import order_by_ticket

    ticket = reviewable(1)[0]
    with app.app_context():
        assert not qa.is_hard(order_by_ticket(ticket))


def test_a_senior_gets_the_hard_draft_first(app, easy_and_hard, make_operator, take):
    make_operator("sam")
    _level(app, "sam", "senior")
    assert take("sam") == easy_and_hard[1]


def test_an_admin_counts_as_senior(easy_and_hard, make_operator, take):
    make_operator("ada", admin=True)
    assert take("ada") == easy_and_hard[1]


def test_an_operator_gets_the_easy_draft_first(easy_and_hard, make_operator, take):
    make_operator("olga")
    assert take("olga") == easy_and_hard[0]


def test_an_operator_gets_a_hard_draft_when_nothing_else_waits(easy_and_hard, make_operator, take):
    make_operator("olga")
    assert take("olga") == easy_and_hard[0]
    assert take("olga") == easy_and_hard[1]


def test_hard_drafts_for_all_keeps_the_usual_order(app, easy_and_hard, make_operator, take):
    app.config["HARD_DRAFTS_FOR_ALL"] = True
    make_operator("olga")
    assert take("olga") == easy_and_hard[1]  # among equally due, the least confident first


def test_a_redo_stays_on_top_of_a_senior_s_hard_drafts(app, easy_and_hard, deliver, make_operator, take):
    from infrastructure.extensions import db
    from orders.codes import Status
    from orders.lookups import order_by_ticket

    redone = deliver(1)[0]
    with app.app_context():
        order = order_by_ticket(redone)
        order.status, order.draft_confidence, order.redo_count = int(Status.REDO_REQUESTED), 0.99, 1
        db.session.commit()
    make_operator("sam")
    _level(app, "sam", "senior")
    assert take("sam") == redone


def test_the_queue_filters_on_the_mark(app, easy_and_hard):
    from orders import review

    with app.app_context():
        assert [o.ticket for o in review.queue(review.QueueFilter(hard=True))] == [easy_and_hard[1]]
        assert [o.ticket for o in review.queue(review.QueueFilter(hard=False))] == [easy_and_hard[0]]


def _level(app, name: str, level: str) -> None:
    from orders import operators

    with app.app_context():
        operators.set_level(name, level)


def test_the_queue_page_marks_and_filters_hard_drafts(client, easy_and_hard, make_operator):
    from tests.support.dashboard import sign_in

    make_operator("olga")
    sign_in(client, "olga")
    page = client.get("/dashboard/?hard=1").get_data(as_text=True)
    assert easy_and_hard[1] in page and easy_and_hard[0] not in page and 'class="badge hard"' in page
