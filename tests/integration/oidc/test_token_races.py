"""Two token requests with the same code or refresh token at once (PostgreSQL, real connections).

A third connection holds the row lock, both requests start in their own thread (each request
has its own app context, database session and connection), and the lock is released only once
both wait on it, so the two redemptions really overlap.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from idp.extensions import db
from tests.integration.oidc.conftest import basic_auth, exchange, get_code, new_pkce
from tests.races import wait_until, waiting_on_locks

pytestmark = pytest.mark.postgresql_only

Request = Callable[[FlaskClient], Any]


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _race(app: Flask, lock: str, digest: str, request: Request) -> list[Any]:
    """Send `request` twice at once while `lock` (a SELECT ... FOR UPDATE) holds the row."""
    responses: list[Any] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            responses.append(request(app.test_client()))
        except BaseException as error:  # reported by the test thread
            errors.append(error)

    with db.engine.connect() as holder:
        assert holder.execute(text(lock), {"digest": digest}).first() is not None
        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        wait_until(lambda: waiting_on_locks() == 2)
        holder.rollback()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    return responses


def _by_status(responses: list[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for response in responses:
        grouped.setdefault(response.status_code, []).append(response)
    return grouped


def _race_code(app: Flask, client: FlaskClient) -> list[Any]:
    """Two redemptions of one code at once."""
    pkce = new_pkce()
    code = get_code(client, pkce)
    lock = "SELECT id FROM oidc_authorization_code WHERE code_digest = :digest FOR UPDATE"
    return _race(app, lock, _sha256(code), lambda other: exchange(other, code, pkce))


def _race_refresh(app: Flask, client: FlaskClient) -> list[Any]:
    """Two refreshes with one refresh token at once."""
    pkce = new_pkce()
    refresh_token = exchange(client, get_code(client, pkce), pkce).get_json()["refresh_token"]
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    lock = "SELECT id FROM oidc_token WHERE refresh_token_digest = :digest FOR UPDATE"
    return _race(
        app,
        lock,
        _sha256(refresh_token),
        lambda other: other.post("/token", data=data, headers=basic_auth()),
    )


def _userinfo(client: FlaskClient, access_token: str) -> Any:
    return client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def test_exactly_one_of_two_concurrent_code_redemptions_gets_tokens(
    app: Flask, signed_in: FlaskClient
) -> None:
    responses = _race_code(app, signed_in)

    grouped = _by_status(responses)
    assert sorted(grouped) == [200, 400]
    assert len(grouped[200]) == 1
    assert grouped[400][0].get_json()["error"] == "invalid_grant"


def test_concurrent_code_redemption_counts_as_replay_and_revokes_the_winners_tokens(
    app: Flask, signed_in: FlaskClient
) -> None:
    winner = _by_status(_race_code(app, signed_in))[200][0].get_json()

    response = _userinfo(signed_in, winner["access_token"])

    assert response.status_code == 401


def test_exactly_one_of_two_concurrent_refreshes_wins(app: Flask, signed_in: FlaskClient) -> None:
    responses = _race_refresh(app, signed_in)

    grouped = _by_status(responses)
    assert sorted(grouped) == [200, 400]
    assert len(grouped[200]) == 1
    assert grouped[400][0].get_json()["error"] == "invalid_grant"


def test_winner_of_concurrent_refreshes_can_refresh_again(
    app: Flask, signed_in: FlaskClient
) -> None:
    winner = _by_status(_race_refresh(app, signed_in))[200][0].get_json()
    data = {"grant_type": "refresh_token", "refresh_token": winner["refresh_token"]}

    response = signed_in.post("/token", data=data, headers=basic_auth())

    assert response.status_code == 200, response.get_json()


def test_winner_of_concurrent_refreshes_keeps_a_working_access_token(
    app: Flask, signed_in: FlaskClient
) -> None:
    winner = _by_status(_race_refresh(app, signed_in))[200][0].get_json()

    response = _userinfo(signed_in, winner["access_token"])

    assert response.status_code == 200
