"""Log in to the web pages with Flask's test client and post forms with their CSRF token."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import PASSWORD

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/web/login") -> str:
    """Return the CSRF token of the session, read from a page's form."""
    page = client.get(path, follow_redirects=True)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def web_login(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    """Log in through the login form."""
    token = csrf_token(client)
    return client.post(
        "/web/login", data={"email": email, "password": password, "csrf_token": token}
    )


def post_form(
    client: FlaskClient, path: str, data: dict[str, Any], token_from: str = "/web/"
) -> TestResponse:
    """Post a form with the session's CSRF token (read from the page token_from)."""
    token = csrf_token(client, token_from)
    return client.post(path, data={**data, "csrf_token": token})
