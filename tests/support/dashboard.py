"""Dashboard tests: signing in through the real form, and the CSRF token every POST needs."""
from __future__ import annotations

import re

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client, path: str = "/dashboard/login") -> str:
    """The session's CSRF token, as the page at `path` hands it to forms and scripts."""
    page = client.get(path)
    match = _TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} (HTTP {page.status_code})"
    return match.group(1)


def sign_in(client, name: str, password: str = PASSWORD, headers: dict[str, str] | None = None, **extra):
    token = csrf_token(client)
    return client.post("/dashboard/login", data={"name": name, "password": password, "csrf_token": token, **extra},
                       headers=headers or {})


def post_form(client, path: str, data: dict | None = None, **kwargs):
    """A form POST with the token, as the browser sends it."""
    return client.post(path, data={"csrf_token": csrf_token(client, "/dashboard/"), **(data or {})}, **kwargs)


def post_json(client, path: str, body: dict | None = None):
    """A page script's call: JSON body, token in X-CSRFToken."""
    return client.post(path, json=body or {}, headers={"X-CSRFToken": csrf_token(client, "/dashboard/")})
