"""The seniors' QA pages: the list of orders in QA, the check page, pass and send back."""
from __future__ import annotations

import re

import pytest

from tests.support.api import status_of
from tests.support.dashboard import post_form, sign_in


@pytest.fixture
def sampled(app, people, reviewable):
    """An order olga approved, sampled into 55 In QA; returns its ticket."""
    from orders import operators, review

    def make() -> str:
        app.config["QA_SAMPLE_PERCENT"] = 100
        ticket = reviewable(1)[0]
        with app.app_context():
            review.claim_and_approve(operators.operator_by_name("olga"), ticket)
        return ticket

    return make


def _order(app, ticket):
    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket

    with app.app_context():
        order = order_by_ticket(ticket)
        facts = (order.status, order.claimed_by.name if order.claimed_by else None)
        db.session.remove()
        return facts


def _checking(client, ticket):
    """sam signs in and opens the order from the QA list."""
    sign_in(client, "sam")
    return post_form(client, f"/dashboard/qa/{ticket}/claim", follow_redirects=True)


def test_a_senior_sees_the_qa_list_and_the_queue_s_qa_tab(client, sampled):
    ticket = sampled()
    sign_in(client, "sam")

    page = client.get("/dashboard/qa").get_data(as_text=True)
    assert ticket in page and "1</span> waiting for QA" in page and "olga" in page
    assert 'id="qa-tab"' in client.get("/dashboard/").get_data(as_text=True)


def test_an_operator_gets_403_on_every_qa_page(client, sampled):
    ticket = sampled()
    sign_in(client, "olga")

    assert 'id="qa-tab"' not in client.get("/dashboard/").get_data(as_text=True)
    refused = client.get("/dashboard/qa")
    assert refused.status_code == 403 and "senior" in refused.get_data(as_text=True)
    assert client.get(f"/dashboard/qa/{ticket}").status_code == 403
    assert post_form(client, "/dashboard/qa/claim-next").status_code == 403
    assert post_form(client, f"/dashboard/qa/{ticket}/pass").status_code == 403
    assert post_form(client, f"/dashboard/qa/{ticket}/send-back", {"note": "x", "x": "1", "y": "1"}).status_code == 403


def test_an_admin_counts_as_senior(client, make_operator, sampled):
    sampled()
    make_operator("ada", admin=True)
    sign_in(client, "ada")

    assert client.get("/dashboard/qa").status_code == 200


def test_claim_next_qa_opens_the_check_page_with_both_views(client, sampled):
    ticket = sampled()
    sign_in(client, "sam")

    response = post_form(client, "/dashboard/qa/claim-next")
    assert response.headers["Location"].endswith(f"/dashboard/qa/{ticket}")
    page = client.get(f"/dashboard/qa/{ticket}").get_data(as_text=True)
    assert 'viewBox="0 0 96 64"' in page and "/original?size=" in page and "alpha=1" in page
    assert re.search(r"Approved by</dt><dd[^>]*>olga<", page)


def test_passing_from_the_page_renders_and_delivers(app, client, customer, sampled, run_jobs):
    ticket = sampled()
    _checking(client, ticket)

    page = post_form(client, f"/dashboard/qa/{ticket}/pass", follow_redirects=True).get_data(as_text=True)
    assert "is rendering and will be delivered" in page
    run_jobs()
    assert status_of(client, customer, ticket).findtext(".//STATUSID") == "80"


def test_sending_back_with_a_point_and_a_note_returns_it_to_olga_with_the_note(app, client, sampled):
    ticket = sampled()
    _checking(client, ticket)

    page = post_form(client, f"/dashboard/qa/{ticket}/send-back",
                     {"note": "the left edge cuts into the shirt", "x": "30", "y": "12"},
                     follow_redirects=True).get_data(as_text=True)
    assert "Sent " in page and "back to olga" in page
    assert _order(app, ticket) == (50, "olga")

    post_form(client, "/dashboard/logout")
    sign_in(client, "olga")
    review = client.get(f"/dashboard/review/{ticket}").get_data(as_text=True)
    assert "the left edge cuts into the shirt" in review and 'cx="30" cy="12"' in review


@pytest.mark.parametrize(("form", "words"), [
    ({"note": "  ", "x": "30", "y": "12"}, "needs a note"),
    ({"note": "fix the edge", "x": "96", "y": "12"}, "pin the note to a point"),
    ({"note": "fix the edge", "x": "", "y": ""}, "pin the note to a point"),
    ({"note": "fix the edge", "x": "-1", "y": "5"}, "pin the note to a point"),
])
def test_sending_back_without_a_note_or_outside_the_image_is_refused_and_changes_nothing(app, client, sampled,
                                                                                         form, words):
    ticket = sampled()
    _checking(client, ticket)

    response = post_form(client, f"/dashboard/qa/{ticket}/send-back", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and words in page.lower()
    assert 'id="qa-error"' in page and form["note"] in page  # the note as typed stays in the field
    assert _order(app, ticket) == (55, "sam")


def test_a_senior_cannot_check_or_pass_their_own_approval(app, client, make_operator, reviewable):
    from orders import operators, review

    make_operator("sam")
    app.config["QA_SAMPLE_PERCENT"] = 100
    ticket = reviewable(1)[0]
    with app.app_context():
        review.claim_and_approve(operators.operator_by_name("sam"), ticket)  # sampled while still an operator
        operators.set_level("sam", "senior")
    sign_in(client, "sam")

    assert "your approval" in client.get("/dashboard/qa").get_data(as_text=True)
    opened = post_form(client, f"/dashboard/qa/{ticket}/claim", follow_redirects=True)
    assert "your own approval" in opened.get_data(as_text=True)
    assert "Nothing is waiting for QA" in post_form(client, "/dashboard/qa/claim-next",
                                                    follow_redirects=True).get_data(as_text=True)
    assert post_form(client, f"/dashboard/qa/{ticket}/pass", follow_redirects=True).status_code == 200
    assert _order(app, ticket) == (55, None)


def test_a_check_page_not_held_says_so_and_points_to_the_list(client, sampled):
    ticket = sampled()
    sign_in(client, "sam")

    response = client.get(f"/dashboard/qa/{ticket}")
    assert response.status_code == 409 and "claim it first" in response.get_data(as_text=True)


def test_the_check_page_s_renewal_answers_the_new_end_of_the_hold(app, client, sampled):
    from tests.support.dashboard import post_json

    ticket = sampled()
    _checking(client, ticket)

    response = post_json(client, f"/dashboard/api/qa/{ticket}/renew")
    assert response.status_code == 200 and response.json["lease_expires_at"].endswith("Z")
    assert _order(app, ticket) == (55, "sam")


def test_giving_a_check_back_frees_it_for_the_qa_list(app, client, sampled):
    from tests.support.dashboard import post_json

    ticket = sampled()
    _checking(client, ticket)

    assert post_json(client, f"/dashboard/api/qa/{ticket}/release").json == {"released": ticket}
    assert _order(app, ticket) == (55, None)
    assert client.get(f"/dashboard/qa/{ticket}").status_code == 409  # no longer held: open it from the list


def test_renewing_a_check_one_does_not_hold_is_refused(client, sampled):
    from tests.support.dashboard import post_json

    ticket = sampled()
    sign_in(client, "sam")

    response = post_json(client, f"/dashboard/api/qa/{ticket}/renew")
    assert response.status_code == 400 and "not held by you" in response.json["message"]


@pytest.mark.parametrize(("name", "shown"), [("olga", "(operator)"), ("sam", "(senior)"), ("ada", "(senior, admin)")])
def test_the_header_shows_each_person_s_level(client, people, make_operator, name, shown):
    make_operator("ada", admin=True)
    sign_in(client, name)

    header = client.get("/dashboard/").get_data(as_text=True)
    assert re.search(r'<span id="who"[^>]*>([^<]*)</span>', header).group(1) == f"{name} {shown}"
