"""QA: sampled approvals wait in 55 In QA for a senior, who passes them or sends them back."""
from __future__ import annotations

import pytest

from tests.support.api import status_of


@pytest.fixture
def as_op(app):
    """Run fn(operator, *args) in an app context as the named operator."""

    def call(name, fn, *args, **kwargs):
        from orders import operators

        with app.app_context():
            return fn(operators.operator_by_name(name), *args, **kwargs)

    return call


def _status(app, ticket):
    from orders.lookups import order_by_ticket

    with app.app_context():
        return order_by_ticket(ticket).status


def _sampled(app, people, reviewable, as_op):
    from orders import review

    app.config["QA_SAMPLE_PERCENT"] = 100
    ticket = reviewable(1)[0]
    as_op("olga", review.claim_and_approve, ticket)
    return ticket


def test_a_sampled_approval_waits_in_qa(app, people, reviewable, as_op):
    assert _status(app, _sampled(app, people, reviewable, as_op)) == 55


def test_with_no_sampling_an_approval_goes_straight_to_rendering(app, people, reviewable, as_op):
    from orders import review

    ticket = reviewable(1)[0]
    as_op("olga", review.claim_and_approve, ticket)
    assert _status(app, ticket) == 60


def test_a_senior_is_never_sampled(app, people, reviewable, as_op):
    from orders import review

    app.config.update(QA_SAMPLE_PERCENT=100, QA_NEW_OPERATOR_ORDERS=50)
    ticket = reviewable(1)[0]
    as_op("sam", review.claim_and_approve, ticket)
    assert _status(app, ticket) == 60


def test_a_new_operator_s_first_approvals_are_all_sampled(app, people, reviewable, as_op):
    from orders import review

    app.config["QA_NEW_OPERATOR_ORDERS"] = 2
    first, second, third = reviewable(3)
    for ticket in (first, second, third):
        as_op("olga", review.claim_and_approve, ticket)
    assert [_status(app, t) for t in (first, second, third)] == [55, 55, 60]


def test_a_test_order_never_enters_qa(app, client, customer, template_id, image_server, run_jobs):
    from tests.support.api import post_image, ticket_of
    from tests.support.pictures import encode

    app.config.update(QA_SAMPLE_PERCENT=100, QA_NEW_OPERATOR_ORDERS=50)
    url = image_server.serve_bytes("/t.png", encode("PNG", (96, 64)), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url, Test="1"))
    run_jobs()
    assert _status(app, ticket) == 80


def test_a_senior_s_pass_renders_and_delivers(app, client, customer, people, reviewable, as_op, run_jobs):
    from orders import qa

    ticket = _sampled(app, people, reviewable, as_op)
    as_op("sam", qa.claim_next)
    as_op("sam", qa.pass_check, ticket)
    run_jobs()
    assert status_of(client, customer, ticket).findtext(".//STATUSID") == "80"


def test_sending_back_returns_the_order_to_its_operator_with_the_pinned_note(app, people, reviewable, as_op):
    from orders import qa, review
    from orders.lookups import order_by_ticket

    ticket = _sampled(app, people, reviewable, as_op)
    as_op("sam", qa.claim, ticket)
    as_op("sam", qa.send_back, ticket, "the left edge cuts into the shirt", 10, 20)

    with app.app_context():
        order = order_by_ticket(ticket)
        note = qa.latest_return(order)
        assert (order.status, order.claimed_by.name, order.returned_to.name) == (50, "olga", "olga")
        assert (note.note, note.point_x, note.point_y) == ("the left edge cuts into the shirt", 10, 20)
    as_op("olga", review.renew_lease, ticket)  # held by her: no claim needed


def test_a_returned_order_is_first_in_its_operator_s_claim_next_and_no_one_else_s(app, people, make_operator,
                                                                                  reviewable, as_op):
    from orders import qa, review

    ticket = _sampled(app, people, reviewable, as_op)
    as_op("sam", qa.claim, ticket)
    as_op("sam", qa.send_back, ticket, "fix the edge", 1, 1)
    as_op("olga", review.release, ticket)
    make_operator("otto")
    other = reviewable(1)[0]

    assert as_op("otto", review.claim_next).ticket == other
    assert as_op("olga", review.claim_next).ticket == ticket


def test_a_returned_order_re_approved_is_checked_again(app, people, reviewable, as_op):
    from orders import qa, review

    ticket = _sampled(app, people, reviewable, as_op)
    app.config["QA_SAMPLE_PERCENT"] = 0
    as_op("sam", qa.claim, ticket)
    as_op("sam", qa.send_back, ticket, "fix the edge", 1, 1)
    as_op("olga", review.approve, ticket)
    assert _status(app, ticket) == 55


def test_sending_back_needs_a_note_and_a_point_on_the_image(app, people, reviewable, as_op):
    from orders import qa
    from orders.errors import ServiceError

    ticket = _sampled(app, people, reviewable, as_op)
    as_op("sam", qa.claim, ticket)
    with pytest.raises(ServiceError, match="needs a note"):
        as_op("sam", qa.send_back, ticket, " ", 1, 1)
    with pytest.raises(ServiceError, match="pin the note"):
        as_op("sam", qa.send_back, ticket, "fix it", 5000, 1)


def test_an_operator_cannot_take_qa_orders(app, people, reviewable, as_op):
    from orders import qa
    from orders.errors import ServiceError

    ticket = _sampled(app, people, reviewable, as_op)
    with pytest.raises(ServiceError, match="senior"):
        as_op("olga", qa.claim, ticket)


def test_an_order_in_qa_cannot_be_cancelled(app, customer, people, reviewable, as_op):
    from orders import cancellation
    from orders.errors import ServiceError

    ticket = _sampled(app, people, reviewable, as_op)
    with app.app_context(), pytest.raises(ServiceError, match="In QA"):
        cancellation.cancel(customer.email, customer.api_key, ticket)


def test_the_history_records_sampling_and_the_decision(app, people, reviewable, as_op):
    from orders import qa
    from orders.lookups import order_by_ticket

    ticket = _sampled(app, people, reviewable, as_op)
    as_op("sam", qa.claim, ticket)
    as_op("sam", qa.pass_check, ticket)
    with app.app_context():
        notes = [(e.to_status, e.note) for e in order_by_ticket(ticket).events][-2:]
    assert notes == [(55, "approved; sampled for QA (random)"), (60, "passed QA (olga's approval)")]


def test_the_operator_s_review_page_shows_the_pinned_note(app, client, people, reviewable, as_op):
    from orders import qa
    from tests.support.dashboard import sign_in

    ticket = _sampled(app, people, reviewable, as_op)
    as_op("sam", qa.claim, ticket)
    as_op("sam", qa.send_back, ticket, "the left edge cuts in", 10, 20)
    sign_in(client, "olga")
    page = client.get(f"/dashboard/review/{ticket}").get_data(as_text=True)
    assert "the left edge cuts in" in page and 'cx="10" cy="20"' in page


def _lease_of(app, ticket):
    from orders.lookups import order_by_ticket

    with app.app_context():
        order = order_by_ticket(ticket)
        return order.claimed_by.name if order.claimed_by else None, order.lease_expires_at


def _shorten_lease(app, ticket, seconds):
    from datetime import timedelta

    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket
    from orders.models import utcnow

    with app.app_context():
        order_by_ticket(ticket).lease_expires_at = utcnow() + timedelta(seconds=seconds)
        db.session.commit()


def test_renewing_a_qa_hold_gives_the_senior_a_full_lease_again(app, people, reviewable, as_op):
    from datetime import timedelta

    from orders import qa

    ticket = _sampled(app, people, reviewable, as_op)
    as_op("sam", qa.claim, ticket)
    _shorten_lease(app, ticket, 5)
    _holder, shortened = _lease_of(app, ticket)

    renewed = as_op("sam", qa.renew, ticket)
    assert renewed >= shortened + timedelta(seconds=app.config["REVIEW_LEASE_SECONDS"] - 5)
    assert _lease_of(app, ticket) == ("sam", renewed)


def test_a_qa_order_given_back_stays_in_qa_for_another_senior(app, people, make_operator, reviewable, as_op):
    from orders import operators, qa

    ticket = _sampled(app, people, reviewable, as_op)
    as_op("sam", qa.claim, ticket)
    as_op("sam", qa.release, ticket)

    assert _status(app, ticket) == 55 and _lease_of(app, ticket) == (None, None)
    make_operator("sue")
    with app.app_context():
        operators.set_level("sue", "senior")
    assert as_op("sue", qa.claim_next).ticket == ticket


def test_only_the_senior_holding_a_qa_order_may_renew_or_give_it_back(app, people, make_operator, reviewable,
                                                                     as_op):
    from orders import operators, qa
    from orders.errors import ServiceError

    ticket = _sampled(app, people, reviewable, as_op)
    as_op("sam", qa.claim, ticket)
    make_operator("sue")
    with app.app_context():
        operators.set_level("sue", "senior")

    for refused in (qa.renew, qa.release):
        with pytest.raises(ServiceError, match="not held by you"):
            as_op("sue", refused, ticket)
    assert _lease_of(app, ticket)[0] == "sam"


def test_a_qa_hold_past_its_lease_cannot_be_renewed(app, people, reviewable, as_op):
    from orders import qa
    from orders.errors import ServiceError

    ticket = _sampled(app, people, reviewable, as_op)
    as_op("sam", qa.claim, ticket)
    _shorten_lease(app, ticket, -1)

    with pytest.raises(ServiceError, match="not held by you"):
        as_op("sam", qa.renew, ticket)
