"""Sign-in page: sessions, generic failures, CSRF."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flask import Flask, Response, request
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from idp.extensions import db
from idp.services import Services
from idp.web.forms import SignInForm
from idp.web.session_models import BrowserSession
from tests.builders import DEFAULT_PASSWORD, csrf_token, make_account

GENERIC = "The username or password is not correct."


def _post_sign_in(client: FlaskClient, username: str, password: str) -> tuple[int, str]:
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in", data={"username": username, "password": password, "csrf_token": token}
    )
    return response.status_code, response.get_data(as_text=True)


def _alert(html: str) -> str:
    match = re.search(r'<div class="alert" role="alert" id="form-error">(.*?)</div>', html, re.S)
    assert match is not None, "no error message on the page"
    return match.group(1).strip()


def _session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("idp_session")
    return cookie.value if cookie else None


def test_sign_in_success_starts_a_new_session_id(client: FlaskClient, services: Services) -> None:
    make_account(services)
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    before = _session_cookie(client)

    response = client.post(
        "/sign-in",
        data={"username": "ParentUser1", "password": DEFAULT_PASSWORD, "csrf_token": token},
    )

    after = _session_cookie(client)
    assert response.status_code == 302
    assert before is not None
    assert after is not None
    assert after != before
    assert "You are signed in as parentuser1." in client.get("/").get_data(as_text=True)


def test_the_session_id_from_before_sign_in_stops_working(
    client: FlaskClient, services: Services
) -> None:
    make_account(services)
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    with client.session_transaction() as pending:
        pending["next_step"] = "/authorize"  # more than a form token: the session has a row
    before = _session_cookie(client)
    assert before is not None
    assert not before.startswith(".")
    client.post(
        "/sign-in",
        data={"username": "ParentUser1", "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    rows = db.session.execute(select(func.count()).select_from(BrowserSession)).scalar()

    client.set_cookie("idp_session", before)  # an id planted before the sign-in

    assert "You are signed in" not in client.get("/").get_data(as_text=True)
    assert rows == 1  # the row took the new id: no second row, nothing left under the old id


def test_session_table_holds_only_a_digest_of_the_cookie(
    client: FlaskClient, services: Services
) -> None:
    account = make_account(services)
    _post_sign_in(client, "parentuser1", DEFAULT_PASSWORD)

    rows = db.session.execute(select(BrowserSession)).scalars().all()

    cookie = _session_cookie(client)
    assert cookie is not None
    assert [row.account_id for row in rows] == [account.id]
    assert all(cookie not in row.id_digest and cookie not in row.data for row in rows)


def test_wrong_password_and_unknown_username_give_the_same_message(
    client: FlaskClient, services: Services
) -> None:
    make_account(services)

    wrong_password = _post_sign_in(client, "parentuser1", "not the password at all")
    unknown_user = _post_sign_in(client, "nobodyhere99", "not the password at all")

    assert wrong_password[0] == unknown_user[0] == 401
    assert _alert(wrong_password[1]) == _alert(unknown_user[1])
    assert GENERIC in _alert(wrong_password[1])


def test_form_post_without_csrf_token_is_refused(client: FlaskClient, services: Services) -> None:
    make_account(services)

    response = client.post(
        "/sign-in", data={"username": "parentuser1", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 400
    assert "This form expired" in response.get_data(as_text=True)
    assert _session_cookie(client) is None or "You are signed in" not in client.get(
        "/", follow_redirects=True
    ).get_data(as_text=True)


def test_sign_out_ends_the_session(client: FlaskClient, services: Services) -> None:
    make_account(services)
    _post_sign_in(client, "parentuser1", DEFAULT_PASSWORD)
    token = csrf_token(client.get("/").get_data(as_text=True))

    response = client.post("/sign-out", data={"csrf_token": token})

    assert response.status_code == 302
    assert db.session.execute(select(BrowserSession)).first() is None
    assert client.get("/").status_code == 302


def test_a_session_ended_while_a_request_ran_is_not_saved_back(
    app: Flask, client: FlaskClient, services: Services
) -> None:
    make_account(services)
    _post_sign_in(client, "parentuser1", DEFAULT_PASSWORD)
    cookie = f"idp_session={_session_cookie(client)}"
    interface = app.session_interface

    with app.test_request_context("/", headers={"Cookie": cookie}):
        session = interface.open_session(app, request)
        assert session is not None
        assert session.get("account_id")
        db.session.execute(delete(BrowserSession))  # signed out in another tab meanwhile
        db.session.commit()
        session["lang"] = "es"  # and this request changed its session
        interface.save_session(app, session, Response())

    assert db.session.execute(select(BrowserSession)).first() is None
    assert client.get("/").status_code == 302  # signed out, not signed in again


class _Inputs(HTMLParser):
    """The attributes of each <input> of a page, by its id."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, dict[str, str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            values = {name: value or "" for name, value in attrs}
            self.found[values.get("id", "")] = values


def _inputs(page: str) -> dict[str, dict[str, str]]:
    parser = _Inputs()
    parser.feed(page)
    return parser.found


def _as_wtforms_renders(app: Flask, data: dict[str, str] | None) -> dict[str, dict[str, str]]:
    """The inputs SignInForm's own widgets render (errors marked as the other forms do)."""
    method = "GET" if data is None else "POST"
    with app.test_request_context("/sign-in", method=method, data=data or {}):
        form = SignInForm()
        if data is not None:
            form.validate()
        rendered = [form.csrf_token()]
        for field in (form.username, form.password):
            marks = {"aria-describedby": f"{field.id}-error", "aria-invalid": "true"}
            rendered.append(field(required=True, **(marks if field.errors else {})))
        return _inputs("".join(str(html) for html in rendered))


def test_the_written_out_sign_in_inputs_are_those_the_form_would_render(
    app: Flask, client: FlaskClient
) -> None:
    shown = _inputs(client.get("/sign-in?login_hint=someuser").get_data(as_text=True))
    expected = _as_wtforms_renders(app, None)
    expected["username"]["value"] = "someuser"
    expected["csrf_token"]["value"] = shown["csrf_token"]["value"]
    assert shown == expected

    token = shown["csrf_token"]["value"]
    page = client.post("/sign-in", data={"csrf_token": token}).get_data(as_text=True)
    with_errors = _as_wtforms_renders(app, {})
    with_errors["csrf_token"]["value"] = _inputs(page)["csrf_token"]["value"]
    assert _inputs(page) == with_errors
    assert with_errors["username"]["aria-invalid"] == "true"
