"""Signing in to the dashboard: sessions, CSRF, cookies, headers, throttling and roles."""
from __future__ import annotations

import re
import time

import pytest

from tests.support.dashboard import PASSWORD, csrf_token, post_form, sign_in


def test_the_dashboard_sends_a_visitor_to_the_sign_in_page(client):
    response = client.get("/dashboard/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login?next=/dashboard/")


def test_a_page_script_without_a_session_gets_401_json(client):
    response = client.get("/dashboard/api/queue/count")

    assert response.status_code == 401
    assert response.json["error"] == "notSignedIn"


def test_signing_in_opens_the_queue(client, make_operator):
    make_operator()

    response = sign_in(client, "olga")

    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"
    assert "awaiting review" in client.get("/dashboard/").get_data(as_text=True)


def test_a_wrong_password_is_refused(client, make_operator):
    make_operator()

    response = sign_in(client, "olga", "not the password")

    assert response.status_code == 401
    assert "wrong name or password" in response.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302


def test_signing_in_returns_to_the_page_asked_for(client, make_operator):
    make_operator()

    response = sign_in(client, "olga", next="/dashboard/bulk")

    assert response.headers["Location"] == "/dashboard/bulk"


def test_signing_in_never_redirects_to_another_site(client, make_operator):
    make_operator()

    response = sign_in(client, "olga", next="//evil.example/")

    assert response.headers["Location"] == "/dashboard/"


def _refusal(response) -> tuple[int, str]:
    return response.status_code, re.search(r'role="alert">([^<]*)<', response.get_data(as_text=True)).group(1)


def test_wrong_unknown_and_held_back_sign_ins_answer_alike(client, make_operator):
    make_operator()
    wrong = _refusal(sign_in(client, "olga", "not the password"))
    unknown = _refusal(sign_in(client, "nobody", "not the password"))
    for _ in range(4):
        sign_in(client, "olga", "not the password")

    held_back = _refusal(sign_in(client, "olga"))  # the right password, during the wait
    assert wrong == unknown == held_back
    assert wrong[0] == 401


def test_after_wrong_tries_the_right_password_works_again_once_the_wait_is_over(client, make_operator):
    make_operator()
    for _ in range(3):
        sign_in(client, "olga", "not the password")  # the third starts a 1 s wait

    assert sign_in(client, "olga").status_code == 401
    time.sleep(1.2)
    assert sign_in(client, "olga").status_code == 302


def test_failures_from_one_address_never_keep_the_operator_out_from_another(proxied_app, make_operator):
    make_operator(admin=True)
    client = proxied_app.test_client()
    for _ in range(8):
        sign_in(client, "olga", "not the password", headers={"X-Forwarded-For": "203.0.113.66"})

    assert sign_in(client, "olga", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 302


def test_too_many_sign_in_attempts_from_one_address_are_refused(client):
    answers = [sign_in(client, f"nobody{n}", "not the password").status_code for n in range(11)]

    assert answers[:10] == [401] * 10
    assert answers[10] == 429


def test_a_disabled_operator_is_signed_out_at_the_next_request(app, client, make_operator):
    from orders import operators

    make_operator()
    sign_in(client, "olga")
    with app.app_context():
        operators.set_active("olga", False)

    assert client.get("/dashboard/").status_code == 302


def test_a_new_password_signs_out_every_session_opened_with_the_old_one(app, client, make_operator):
    from orders import operators

    make_operator()
    sign_in(client, "olga")
    with app.app_context():
        operators.set_password("olga", "a brand new secret")

    assert client.get("/dashboard/").status_code == 302


def test_a_session_opened_with_the_new_password_works(app, client, make_operator):
    from orders import operators

    make_operator()
    with app.app_context():
        operators.set_password("olga", "a brand new secret")
    sign_in(client, "olga", "a brand new secret")

    assert client.get("/dashboard/").status_code == 200


def test_a_forged_session_id_without_the_password_stamp_is_not_signed_in(app, client, make_operator):
    make_operator()
    with client.session_transaction() as session:
        session["_user_id"] = "1"
        session["_fresh"] = True

    assert client.get("/dashboard/").status_code == 302


def test_a_form_without_its_csrf_token_is_refused(client, make_operator):
    make_operator()

    response = client.post("/dashboard/login", data={"name": "olga", "password": PASSWORD})

    assert response.status_code == 400
    assert "refused" in response.get_data(as_text=True)


def test_a_page_script_call_without_the_csrf_header_is_refused(client, reviewable, make_operator):
    reviewable(1)
    make_operator()
    sign_in(client, "olga")

    response = client.post("/dashboard/api/claim-next", json={})

    assert response.status_code == 400
    assert response.json["error"] == "csrfRefused"


def test_the_order_api_needs_no_csrf_token(client, customer, template_id):
    from tests.support.api import post_image, ticket_of

    assert ticket_of(post_image(client, customer, templateId=template_id))


def test_signing_out_ends_the_session(client, make_operator):
    make_operator()
    sign_in(client, "olga")

    post_form(client, "/dashboard/logout")

    assert client.get("/dashboard/").status_code == 302


def test_a_session_cookie_copied_before_signing_out_opens_nothing_afterwards(app, client, make_operator):
    make_operator(admin=True)
    sign_in(client, "olga")
    copied = client.get_cookie("session").value

    post_form(client, "/dashboard/logout")

    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/dashboard/admin/customers").status_code == 302


def test_a_dashboard_session_lasts_dashboard_session_hours(app, client, make_operator):
    from datetime import UTC, datetime

    make_operator()
    sign_in(client, "olga")

    expires = client.get_cookie("session").expires
    hours = (expires - datetime.now(UTC)).total_seconds() / 3600
    assert app.config["DASHBOARD_SESSION_HOURS"] == 12 and 11.9 < hours <= 12


def test_signing_out_needs_the_csrf_token(client, make_operator):
    make_operator()
    sign_in(client, "olga")

    assert client.post("/dashboard/logout").status_code == 400
    assert client.get("/dashboard/").status_code == 200


def test_the_session_cookie_is_http_only_and_same_site(client, make_operator):
    make_operator()

    cookie = sign_in(client, "olga").headers["Set-Cookie"]

    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the test server is plain http


def test_the_session_cookie_is_secure_behind_https(backend, tmp_path, app_model_dir):
    from app import create_app

    https_app = create_app({"DATABASE_URL": backend.database_url, "REDIS_URL": backend.redis_url,
                            "STORAGE_DIR": str(tmp_path), "SECRET_KEY": "x",
                            "PUBLIC_BASE_URL": "https://orders.example"})

    assert https_app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("path", ["/dashboard/login", "/dashboard/"])
def test_dashboard_pages_carry_the_security_headers(client, make_operator, path):
    make_operator()
    sign_in(client, "olga")

    headers = client.get(path).headers

    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_dashboard_pages_have_no_inline_script(client, make_operator):
    make_operator()
    sign_in(client, "olga")

    page = client.get("/dashboard/").get_data(as_text=True)

    assert "<script>" not in page and "onclick" not in page and "style=" not in page
    assert '<script type="module" src="/static/dashboard/js/' in page


def test_the_csrf_token_is_on_every_page_for_the_scripts(client, make_operator):
    make_operator()
    sign_in(client, "olga")

    assert csrf_token(client, "/dashboard/")


ADMIN_PAGES = ["/dashboard/admin/customers", "/dashboard/admin/templates", "/dashboard/admin/operators",
               "/dashboard/admin/orders", "/dashboard/admin/stats", "/dashboard/admin/stats/status.svg"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_an_operator_gets_403_on_admin_pages(client, make_operator, path):
    make_operator()
    sign_in(client, "olga")

    response = client.get(path)

    assert response.status_code == 403
    assert "admin role" in response.get_data(as_text=True)


def test_an_operator_cannot_create_operators(client, make_operator):
    make_operator()
    sign_in(client, "olga")

    response = post_form(client, "/dashboard/admin/operators", {"name": "mallory", "password": PASSWORD, "admin": "1"})

    assert response.status_code == 403


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_an_admin_opens_admin_pages(client, make_operator, path):
    make_operator("ada", admin=True)
    sign_in(client, "ada")

    assert client.get(path).status_code == 200


def test_the_hash_an_unknown_name_is_checked_against_costs_what_a_real_one_does():
    # Same method and work factors as a password set today, so an unknown name takes as long to refuse.
    from werkzeug.security import check_password_hash, generate_password_hash

    from orders.operators import _DUMMY_HASH

    assert _DUMMY_HASH.split("$")[0] == generate_password_hash("x").split("$")[0]
    assert check_password_hash(_DUMMY_HASH, "not a real password")
