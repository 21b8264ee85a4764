"""Flask-Limiter per client IP on the credential pages (on in every environment but `test`)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask.testing import FlaskClient

from idp.config import Settings
from tests.builders import csrf_token


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Development settings: the rate limiter is on (memory storage, per app)."""
    return replace(settings, env="development")


def _numbered(data: dict[str, str], n: int) -> dict[str, str]:
    return {key: value.replace("{n}", str(n)) for key, value in data.items()}


@pytest.mark.parametrize(
    ("url", "data", "allowed"),
    [
        ("/forgot-username", {"email": "someone{n}@example.org"}, 5),
        ("/forgot-password", {"username": "someuser{n}"}, 5),
        ("/register", {"person_id": "P{n}", "activation_key": "0" * 32}, 10),
        ("/sign-in", {"username": "someuser{n}", "password": "not the password"}, 20),
    ],
    ids=["forgot-username", "forgot-password", "register", "sign-in"],
)
def test_posts_beyond_the_per_minute_limit_get_429(
    client: FlaskClient, url: str, data: dict[str, str], allowed: int
) -> None:
    token = csrf_token(client.get(url).get_data(as_text=True))
    # A different name each time: the per-name lockouts (a 429 of their own) never start.
    statuses = [
        client.post(url, data={**_numbered(data, n), "csrf_token": token}).status_code
        for n in range(allowed + 1)
    ]

    assert 429 not in statuses[:allowed]
    assert statuses[allowed] == 429
