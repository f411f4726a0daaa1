"""The supervisors' figures (orders.reports): status counts, throughput, per operator, unedited share, SLA."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image


@pytest.fixture
def as_operator(app, make_operator):
    """Run a review function as the named operator (created on first use)."""
    made = set()

    def call(name, fn, *args):
        from orders import operators

        if name not in made:
            make_operator(name)
            made.add(name)
        with app.app_context():
            return fn(operators.operator_by_name(name), *args)

    return call


def _figures(app, fn, *args):
    with app.app_context():
        return fn(*args)


def _since(hours=24):
    from orders import reports

    return reports.window_start(hours)


def _white_mask() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (96, 64), 255).save(buffer, "PNG")
    return buffer.getvalue()


def test_orders_are_counted_by_status(app, reviewable, as_operator):
    from orders import reports, review
    from orders.codes import Status

    first, _second = reviewable(2)
    as_operator("olga", review.claim, first)

    counts = _figures(app, reports.orders_by_status)

    assert counts[Status.AWAITING_REVIEW] == 1 and counts[Status.IN_REVIEW] == 1 and counts[Status.DELIVERED] == 0
    assert list(counts) == list(Status)


def test_throughput_counts_decisions_in_their_hour(app, reviewable, as_operator):
    from orders import reports, review

    first, second, _third = reviewable(3)
    as_operator("olga", review.claim, first)
    as_operator("olga", review.approve, first)
    as_operator("olga", review.claim, second)
    as_operator("olga", review.reject, second, "notProductPhoto")

    hours = _figures(app, lambda: reports.throughput_per_hour(_since(3)))

    assert len(hours) == 4  # every hour the window touches, empty ones too
    assert (hours[-1].approved, hours[-1].rejected) == (1, 1)
    assert sum(h.approved + h.rejected for h in hours[:-1]) == 0


def test_per_operator_figures_count_approvals_edits_rejects(app, reviewable, as_operator):
    from orders import reports, review

    first, second, third = reviewable(3)
    as_operator("olga", review.claim, first)
    as_operator("olga", review.save_mask, first, _white_mask())
    as_operator("olga", review.approve, first)
    as_operator("piet", review.claim, second)
    as_operator("piet", review.reject, second, "subjectUnclear")
    as_operator("piet", review.bulk_approve, [third])

    figures = {f.name: f for f in _figures(app, lambda: reports.operator_figures(_since()))}

    assert (figures["olga"].approvals, figures["olga"].edits, figures["olga"].rejects) == (1, 1, 0)
    assert (figures["piet"].approvals, figures["piet"].edits, figures["piet"].rejects) == (1, 0, 1)


def test_median_seconds_come_from_the_review_sessions_and_skip_bulk(app, reviewable, as_operator):
    from infrastructure.extensions import db
    from orders import reports, review
    from orders.models import ReviewSession

    first, second, third = reviewable(3)
    for ticket in (first, second):
        as_operator("olga", review.claim, ticket)
        as_operator("olga", review.approve, ticket)
    as_operator("olga", review.bulk_approve, [third])
    with app.app_context():  # as if the two reviews took 30 s and 90 s
        timed = db.session.scalars(db.select(ReviewSession).where(ReviewSession.ended_at > ReviewSession.started_at)
                                   .order_by(ReviewSession.id)).all()
        for session, seconds in zip(timed, (30, 90), strict=False):
            session.started_at = session.ended_at - timedelta(seconds=seconds)
        db.session.commit()

    olga = _figures(app, lambda: reports.operator_figures(_since()))[0]

    assert olga.approvals == 3
    assert olga.median_seconds == pytest.approx(60, abs=0.01)


def test_the_unedited_share_counts_drafts_approved_as_they_were(app, reviewable, as_operator):
    from orders import reports, review

    edited, plain_one, plain_two = reviewable(3)
    as_operator("olga", review.claim, edited)
    as_operator("olga", review.save_mask, edited, _white_mask())
    as_operator("olga", review.approve, edited)
    as_operator("olga", review.bulk_approve, [plain_one, plain_two])

    share = _figures(app, lambda: reports.approved_without_edit(_since()))

    assert (share.approved, share.unedited) == (3, 2)
    assert share.share == pytest.approx(2 / 3)


def test_sla_misses_count_late_deliveries_and_open_orders_past_due(app, reviewable, as_operator):
    from infrastructure.extensions import db
    from orders import lifecycle, reports, review
    from orders.codes import Status
    from orders.models import Order, utcnow

    late, overdue, _on_time = reviewable(3)
    as_operator("olga", review.bulk_approve, [late])
    with app.app_context():
        orders = {o.ticket: o for o in db.session.scalars(db.select(Order))}
        orders[late].due_at = utcnow() - timedelta(hours=1)
        orders[overdue].due_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
        lifecycle.move(orders[late].id, Status.DELIVERED, actor="worker:render", expect=[Status.RENDERING])
        db.session.commit()

    misses = _figures(app, lambda: reports.sla_misses(_since()))

    assert (misses.delivered_late, misses.open_overdue) == (1, 1)


def test_first_pass_yield_and_qa_returns_per_operator(app, reviewable, as_operator):
    from orders import operators, qa, reports, review

    app.config["QA_SAMPLE_PERCENT"] = 100
    tickets = reviewable(3)
    for ticket in tickets:
        as_operator("olga", review.claim_and_approve, ticket)
    as_operator("sam", lambda op: None)
    with app.app_context():
        operators.set_level("sam", "senior")
    for ticket in tickets[:2]:
        as_operator("sam", qa.claim, ticket)
        as_operator("sam", qa.pass_check, ticket)
    as_operator("sam", qa.claim, tickets[2])
    as_operator("sam", qa.send_back, tickets[2], "the edge", 1, 1)

    olga = {f.name: f for f in _figures(app, lambda: reports.operator_figures(_since()))}["olga"]

    assert (olga.qa_passed, olga.qa_returns) == (2, 1)
    assert olga.first_pass_yield == pytest.approx(2 / 3)


def test_the_stats_page_shows_first_pass_yield_and_qa_returns(app, client, make_operator):
    from tests.support.dashboard import sign_in

    make_operator("ada", admin=True)
    sign_in(client, "ada")
    page = client.get("/dashboard/admin/stats").get_data(as_text=True)
    assert "First-pass yield" in page and "QA returns" in page
