"""Unreadable input (NUL, other control characters, invalid UTF-8) is a clean 400 at the edge.

Issue 14, item 4: a NUL in a typed field gave an HTML 500 (PostgreSQL refuses NUL in text) and
the database error logged the typed value. Now pages answer a translated 400 page and the JSON
endpoints an OAuth `invalid_request`; nothing is written and no log line carries the value.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from tests.builders import csrf_token
from tests.integration.oidc.conftest import basic_auth
from tests.integration.oidc.conftest import registered_clients as registered_clients  # fixture

# What the person "typed": findable in a log line, whatever the bad character next to it.
TYPED = "Zq7typedvalue"
# Percent-escaped as a browser or client would send them (%FF, %C3%28: invalid UTF-8).
BAD_ESCAPES = {"nul": "%00", "escape": "%1B", "invalid-utf8": "%FF", "bad-sequence": "%C3%28"}


@dataclass(frozen=True)
class Target:
    """Where the bad value goes: a form of ours (with its CSRF token), or a client's request."""

    method: str
    path: str
    field: str  # the field carrying the bad value
    other_fields: dict[str, str]
    form_page: str | None = None  # the page whose form gives the CSRF token
    headers: dict[str, str] | None = None
    is_json: bool = False


PAGES = {
    "sign-in": Target("POST", "/sign-in", "username", {"password": "x" * 14}, "/sign-in"),
    "forgot-password": Target("POST", "/forgot-password", "username", {}, "/forgot-password"),
    "forgot-username": Target("POST", "/forgot-username", "email", {}, "/forgot-username"),
    "register": Target(
        "POST", "/register", "person_id", {"activation_key": "ABCD-EFGH-JKLM"}, "/register"
    ),
    "student-id": Target(
        "POST",
        "/sign-in/student",
        "student_id",
        {"birth_date": "2014-05-01", "password": "x" * 14},
        "/sign-in/student",
    ),
    "authorize": Target(
        "GET", "/authorize", "client_id", {"response_type": "code", "scope": "openid"}
    ),
    "end-session": Target("GET", "/end-session", "client_id", {}),
}
JSON_ENDPOINTS = {
    "token-client-id": Target(
        "POST",
        "/token",
        "client_id",
        {"grant_type": "authorization_code", "code": "abc", "client_secret": "s" * 20},
        is_json=True,
    ),
    "token-code": Target(
        "POST",
        "/token",
        "code",
        {"grant_type": "authorization_code", "redirect_uri": "http://127.0.0.1:5001/callback"},
        headers=basic_auth(),
        is_json=True,
    ),
    "userinfo": Target("GET", "/userinfo", "access_token", {}, is_json=True),
    "introspect": Target("POST", "/introspect", "token", {}, headers=basic_auth(), is_json=True),
    "revoke": Target("POST", "/revoke", "token", {}, headers=basic_auth(), is_json=True),
}


def _urlencoded(fields: dict[str, str], field: str, escape: str) -> str:
    """A query string or form body whose `field` is TYPED with a bad escape in its middle."""
    return urlencode(fields) + ("&" if fields else "") + f"{field}={TYPED}{escape}x"


def _database_rows() -> dict[str, list[str]]:
    """Every row of every table, to show that a refused request changed nothing."""
    rows = {}
    for table in db.metadata.sorted_tables:
        found = db.session.execute(select(table)).all()
        rows[table.name] = sorted(repr(tuple(row)) for row in found)
    db.session.rollback()
    return rows


def _send(client: FlaskClient, target: Target, escape: str) -> Any:
    fields = dict(target.other_fields)
    if target.form_page is not None:
        fields["csrf_token"] = csrf_token(client.get(target.form_page).get_data(as_text=True))
    encoded = _urlencoded(fields, target.field, escape)
    if target.method == "GET":
        return client.get(f"{target.path}?{encoded}", headers=target.headers)
    return client.post(
        target.path,
        data=encoded.encode(),
        content_type="application/x-www-form-urlencoded",
        headers=target.headers,
    )


@dataclass(frozen=True)
class Refusal:
    """What a request with a bad value got, and what it left behind."""

    status: int
    mimetype: str
    body: str
    json: Any
    cache_control: str
    is_database_unchanged: bool
    log: str


def _refusal(client: FlaskClient, target: Target, escape: str, caplog: Any) -> Refusal:
    caplog.set_level(logging.DEBUG)
    if target.form_page is not None:
        client.get(target.form_page)  # the browser had the form before it sent it
    before = _database_rows()
    response = _send(client, target, escape)
    log = "\n".join([caplog.text] + [repr(record.args) for record in caplog.records if record.args])
    return Refusal(
        response.status_code,
        response.mimetype,
        response.get_data(as_text=True),
        response.get_json(silent=True),
        response.headers.get("Cache-Control", ""),
        _database_rows() == before,
        log,
    )


@pytest.mark.usefixtures("registered_clients")
@pytest.mark.parametrize("escape", BAD_ESCAPES.values(), ids=BAD_ESCAPES.keys())
@pytest.mark.parametrize("target", PAGES.values(), ids=PAGES.keys())
def test_a_page_answers_unreadable_input_with_a_400_page_and_keeps_it_out_of_logs(
    client: FlaskClient, target: Target, escape: str, caplog: pytest.LogCaptureFixture
) -> None:
    refusal = _refusal(client, target, escape, caplog)

    assert (refusal.status, refusal.mimetype) == (400, "text/html")
    assert "characters we cannot read" in refusal.body
    assert refusal.cache_control == "no-store"
    assert refusal.is_database_unchanged
    assert TYPED not in refusal.log
    assert "web:input:unreadable" in refusal.log


@pytest.mark.usefixtures("registered_clients")
@pytest.mark.parametrize("escape", BAD_ESCAPES.values(), ids=BAD_ESCAPES.keys())
@pytest.mark.parametrize("target", JSON_ENDPOINTS.values(), ids=JSON_ENDPOINTS.keys())
def test_a_json_endpoint_answers_unreadable_input_with_invalid_request(
    client: FlaskClient, target: Target, escape: str, caplog: pytest.LogCaptureFixture
) -> None:
    refusal = _refusal(client, target, escape, caplog)

    assert (refusal.status, refusal.mimetype) == (400, "application/json")
    assert refusal.json["error"] == "invalid_request"
    assert refusal.cache_control == "no-store"
    assert refusal.is_database_unchanged
    assert TYPED not in refusal.log


def _basic(client_id: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(client_id + b":secret").decode()}


@pytest.mark.usefixtures("registered_clients")
@pytest.mark.parametrize(
    "client_id",
    [TYPED.encode() + b"\x00", TYPED.encode() + b"%00", TYPED.encode() + b"\xff"],
    ids=["nul", "escaped-nul", "invalid-utf8"],
)
def test_token_refuses_unreadable_basic_credentials(
    client: FlaskClient, client_id: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    response = client.post(
        "/token", data={"grant_type": "client_credentials"}, headers=_basic(client_id)
    )

    assert (response.status_code, response.mimetype) == (400, "application/json")
    assert response.get_json()["error"] == "invalid_request"
    assert TYPED not in caplog.text


def test_raw_invalid_utf8_in_a_form_body_is_refused(client: FlaskClient) -> None:
    token = csrf_token(client.get("/forgot-password").get_data(as_text=True))

    response = client.post(
        "/forgot-password",
        data=b"csrf_token=" + token.encode() + b"&username=" + TYPED.encode() + b"\xff",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert "characters we cannot read" in response.get_data(as_text=True)


def test_a_nul_in_a_multipart_field_name_is_refused(client: FlaskClient) -> None:
    token = csrf_token(client.get("/forgot-password").get_data(as_text=True))

    response = client.post(
        "/forgot-password",
        data={"csrf_token": token, "username": "parentuser1", "x\x00y": "1"},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [b'{"token": "a\\u0000b"}', b'{"a\\u001bb": 1}', b'{"token": "\\ud800"}', b'{"t": "\xff"}'],
    ids=["nul-value", "escape-key", "lone-surrogate", "invalid-utf8"],
)
def test_a_json_body_with_unreadable_strings_is_refused(client: FlaskClient, body: bytes) -> None:
    response = client.post("/revoke", data=body, content_type="application/json")

    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_request")


def test_the_refusal_page_is_in_the_language_of_the_browser(client: FlaskClient) -> None:
    response = client.get("/sign-in?next=%00", headers={"Accept-Language": "es"})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'lang="es"' in page
    assert "next=" not in page  # the language links leave the unreadable query behind


def test_a_nul_in_the_path_is_refused(client: FlaskClient) -> None:
    response = client.get("/sign-in%00")

    assert response.status_code == 400


@pytest.mark.parametrize(
    "text",
    ["Line one\r\nline two\ttabbed", "Ünïcödé ✓ 日本語 العربية"],
    ids=["newlines-and-tabs", "non-ascii"],
)
def test_newlines_tabs_and_other_languages_pass(client: FlaskClient, text: str) -> None:
    token = csrf_token(client.get("/forgot-password").get_data(as_text=True))

    response = client.post("/forgot-password", data={"csrf_token": token, "username": text})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "cookie",
    [TYPED + "\x00", "." + TYPED + "\x00", TYPED + "\xff", '"' + TYPED + '\\000\\377"'],
    ids=["nul", "nul-in-signed-form", "invalid-utf8", "octal-escapes"],
)
def test_an_unreadable_session_cookie_is_no_session(
    client: FlaskClient, cookie: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    # The header as the server hands it over (PEP 3333: its bytes as Latin-1 characters).
    response = client.get("/sign-in", environ_overrides={"HTTP_COOKIE": f"idp_session={cookie}"})

    assert response.status_code == 200
    assert TYPED not in caplog.text
