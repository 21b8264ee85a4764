"""Authorization codes: single use, short-lived, bound to client and redirect_uri; what the
authorization endpoint refuses; codes and tokens random and stored only as digests."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from idp.clock import FrozenClock
from idp.extensions import db
from tests.integration.oidc.conftest import (
    GRADES_REDIRECT,
    authorize_params,
    basic_auth,
    exchange,
    get_code,
    new_pkce,
)

ATTENDANCE_REDIRECT = "http://127.0.0.1:5002/callback"


def _tokens(client: FlaskClient) -> dict[str, Any]:
    """A code of the grades app (with PKCE), redeemed; the token response."""
    pkce = new_pkce()
    response = exchange(client, get_code(client, pkce), pkce)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _replay(client: FlaskClient) -> tuple[dict[str, Any], Any]:
    """Redeem a code, then redeem it again: the first tokens and the second response."""
    pkce = new_pkce()
    code = get_code(client, pkce)
    first = exchange(client, code, pkce).get_json()
    return first, exchange(client, code, pkce)


def _userinfo(client: FlaskClient, access_token: str) -> Any:
    return client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def _refresh(client: FlaskClient, refresh_token: str) -> Any:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return client.post("/token", data=data, headers=basic_auth())


def _column_values(table: str) -> list[str]:
    rows = db.session.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608 - fixed names
    return [str(value) for row in rows for value in row]


def test_refuses_a_second_redemption_of_a_code(signed_in: FlaskClient) -> None:
    _, second = _replay(signed_in)

    assert second.status_code == 400
    assert second.get_json()["error"] == "invalid_grant"
    assert "access_token" not in second.get_json()


def test_second_redemption_is_logged_as_a_security_event(
    signed_in: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="idp.oidc")

    _replay(signed_in)

    assert any("oidc:code:replayed" in record.getMessage() for record in caplog.records)


def test_second_redemption_revokes_the_access_token_of_the_first(signed_in: FlaskClient) -> None:
    first, _ = _replay(signed_in)

    response = _userinfo(signed_in, first["access_token"])

    assert response.status_code == 401


def test_second_redemption_revokes_the_refresh_token_of_the_first(signed_in: FlaskClient) -> None:
    first, _ = _replay(signed_in)

    response = _refresh(signed_in, first["refresh_token"])

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize(("seconds", "status"), [(59, 200), (60, 400), (61, 400)])
def test_code_works_for_60_seconds_only(
    signed_in: FlaskClient, clock: FrozenClock, seconds: int, status: int
) -> None:
    pkce = new_pkce()
    code = get_code(signed_in, pkce)
    clock.advance(seconds=seconds)

    response = exchange(signed_in, code, pkce)

    assert response.status_code == status
    assert response.get_json().get("error") == (None if status == 200 else "invalid_grant")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        GRADES_REDIRECT + "/",
        GRADES_REDIRECT + "?x=1",
        GRADES_REDIRECT.replace("127.0.0.1", "localhost"),
        ATTENDANCE_REDIRECT,
        "",
    ],
    ids=["trailing-slash", "extra-query", "other-host", "other-client", "empty"],
)
def test_refuses_a_redirect_uri_differing_from_the_authorization_request(
    signed_in: FlaskClient, redirect_uri: str
) -> None:
    pkce = new_pkce()
    code = get_code(signed_in, pkce)

    response = exchange(signed_in, code, pkce, redirect_uri=redirect_uri)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_refuses_a_token_request_without_the_redirect_uri(signed_in: FlaskClient) -> None:
    pkce = new_pkce()
    code = get_code(signed_in, pkce)
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": pkce.verifier}

    response = signed_in.post("/token", data=data, headers=basic_auth())

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_refuses_a_code_redeemed_by_another_client(signed_in: FlaskClient) -> None:
    pkce = new_pkce()
    code = get_code(signed_in, pkce)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": GRADES_REDIRECT,
        "code_verifier": pkce.verifier,
    }

    response = signed_in.post("/token", data=data, headers=basic_auth("attendance"))

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
    assert "access_token" not in response.get_json()


@pytest.mark.parametrize(
    "params",
    [
        {"redirect_uri": None},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": GRADES_REDIRECT + "/../evil"},
        {"redirect_uri": GRADES_REDIRECT.upper()},
        {"redirect_uri": ATTENDANCE_REDIRECT},
        {"client_id": "no-such-app"},
        {"client_id": None},
    ],
    ids=[
        "no-redirect-uri",
        "unregistered-redirect-uri",
        "path-traversal",
        "different-case",
        "another-clients-redirect-uri",
        "unknown-client",
        "no-client-id",
    ],
)
def test_shows_an_error_page_without_redirecting(
    signed_in: FlaskClient, params: dict[str, str | None]
) -> None:
    request = {
        key: value
        for key, value in {**authorize_params(new_pkce()), **params}.items()
        if value is not None
    }

    response = signed_in.get("/authorize?" + urlencode(request))

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"
    assert "This sign-in link does not work" in response.get_data(as_text=True)


@pytest.mark.parametrize("response_type", ["token", "id_token", "id_token token", "code token"])
def test_refuses_response_types_other_than_code(signed_in: FlaskClient, response_type: str) -> None:
    params = authorize_params(new_pkce(), response_type=response_type)

    response = signed_in.get("/authorize?" + urlencode(params))

    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(GRADES_REDIRECT + "?")
    assert query["error"] == ["unsupported_response_type"]
    assert query["state"] == ["state-123"]
    assert location.fragment == ""
    assert not {"code", "access_token", "id_token"} & query.keys()


@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_tokens_issued_in_the_same_second_differ(signed_in: FlaskClient, kind: str) -> None:
    first, second = _tokens(signed_in), _tokens(signed_in)

    assert first[kind] != second[kind]
    assert first["scope"] == second["scope"]


def test_database_stores_no_code_or_token_in_the_clear(signed_in: FlaskClient) -> None:
    pkce = new_pkce()
    code = get_code(signed_in, pkce)
    body = exchange(signed_in, code, pkce).get_json()
    secrets = [code, body["access_token"], body["refresh_token"]]

    stored = _column_values("oidc_token") + _column_values("oidc_authorization_code")

    assert stored
    assert [value for value in stored for secret in secrets if secret in value] == []


def test_database_stores_sha256_digests(signed_in: FlaskClient) -> None:
    pkce = new_pkce()
    code = get_code(signed_in, pkce)
    body = exchange(signed_in, code, pkce).get_json()

    code_digests = db.session.execute(text("SELECT code_digest FROM oidc_authorization_code"))
    token_digests = db.session.execute(
        text("SELECT access_token_digest, refresh_token_digest FROM oidc_token")
    )

    def sha256(value: str) -> str:
        return hashlib.sha256(value.encode()).hexdigest()

    assert code_digests.scalars().all() == [sha256(code)]
    assert token_digests.all() == [(sha256(body["access_token"]), sha256(body["refresh_token"]))]
