"""Forgot-password and change-password pages, and the security-questions page."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.services import Services
from tests.builders import DEFAULT_ANSWERS, DEFAULT_PASSWORD, csrf_token, make_account

NEW_PASSWORD = "a brand new passphrase"


def _post(client: FlaskClient, url: str, data: dict[str, str]) -> tuple[int, str]:
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(url, data={**data, "csrf_token": token})
    return response.status_code, html.unescape(response.get_data(as_text=True))


def _sign_in(client: FlaskClient, password: str = DEFAULT_PASSWORD) -> int:
    status, _ = _post(client, "/sign-in", {"username": "parentuser1", "password": password})
    return status


def _without_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*>', "", page)


def test_forgot_password_answers_the_same_for_known_and_unknown_usernames(
    client: FlaskClient, services: Services
) -> None:
    make_account(services)

    known = _post(client, "/forgot-password?lang=en", {"username": "parentuser1"})
    unknown = _post(client, "/forgot-password?lang=en", {"username": "nosuchuser9"})

    assert (known[0], _without_tokens(known[1])) == (unknown[0], _without_tokens(unknown[1]))
    assert "If this username belongs to an account" in known[1]


def _reset_url(services: Services) -> str:
    message = db.session.execute(select(OutboxMessage)).scalars().one()
    context = services.recovery_messages.prepare_reset(message)
    assert context is not None
    parts = urlsplit(context["reset_url"])
    return f"{parts.path}?{parts.query}"


def test_recovery_through_the_pages_then_sign_in_with_the_new_password(
    client: FlaskClient, services: Services
) -> None:
    make_account(services)
    _post(client, "/forgot-password", {"username": "parentuser1"})
    url = _reset_url(services)
    page = client.get(url + "&lang=en").get_data(as_text=True)
    keys = re.findall(r'name="answer_(\w+)"', page)
    given = dict(
        zip(
            services.policies.credentials.security_questions.question_keys,
            DEFAULT_ANSWERS,
            strict=False,
        )
    )
    form = {f"answer_{key}": given[key] for key in keys}
    form |= {"token": parse_qs(urlsplit(url).query)["token"][0], "csrf_token": csrf_token(page)}
    new_page = client.post("/reset-password", data=form).get_data(as_text=True)
    proof = re.search(r'name="proof"[^>]*value="([^"]+)"', new_page)
    assert proof is not None

    done = client.post(
        "/reset-password/new",
        data={
            "proof": proof.group(1),
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
            "csrf_token": csrf_token(new_page),
        },
    )

    assert len(keys) == 3
    assert done.status_code == 200
    assert done.headers["Referrer-Policy"] == "no-referrer"
    assert _sign_in(client, NEW_PASSWORD) == 302


def test_wrong_answers_page_says_so_and_changes_nothing(
    client: FlaskClient, services: Services
) -> None:
    make_account(services)
    _post(client, "/forgot-password", {"username": "parentuser1"})
    url = _reset_url(services)
    page = client.get(url + "&lang=en").get_data(as_text=True)
    form = {f"answer_{key}": "wrong" for key in re.findall(r'name="answer_(\w+)"', page)}
    form |= {"token": parse_qs(urlsplit(url).query)["token"][0], "csrf_token": csrf_token(page)}

    response = client.post("/reset-password", data=form)

    assert response.status_code == 401
    assert "Some answers are not correct." in html.unescape(response.get_data(as_text=True))
    assert _sign_in(client) == 302


def test_change_password_page_signs_out_the_other_browser(
    app: object, client: FlaskClient, services: Services
) -> None:
    make_account(services)
    other = client.application.test_client()
    _sign_in(client)
    _sign_in(other)

    status, page = _post(
        client,
        "/preferences/password?lang=en",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )

    assert status == 200
    assert "Your password is changed." in page
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_change_password_page_refuses_a_wrong_current_password(
    client: FlaskClient, services: Services
) -> None:
    make_account(services)
    _sign_in(client)

    status, page = _post(
        client,
        "/preferences/password?lang=en",
        {
            "current_password": "not it at all",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )

    assert status == 401
    assert "Your current password is not correct." in page


def test_security_questions_page_replaces_the_questions(
    client: FlaskClient, services: Services
) -> None:
    account = make_account(services)
    _sign_in(client)
    form = {"password": DEFAULT_PASSWORD}
    for number, (key, answer) in enumerate(
        [("first_car", "volvo"), ("favourite_book", "dune"), ("childhood_street", "elm street")], 1
    ):
        form |= {f"question_{number}": key, f"answer_{number}": answer}

    status, page = _post(client, "/preferences/security-questions?lang=en", form)

    assert status == 200
    assert "Your new security questions are saved." in page
    assert services.questions.chosen_keys(account) == [
        "childhood_street",
        "favourite_book",
        "first_car",
    ]


def test_security_questions_page_refuses_the_same_question_twice(
    client: FlaskClient, services: Services
) -> None:
    account = make_account(services)
    _sign_in(client)
    form = {"password": DEFAULT_PASSWORD}
    for number, answer in enumerate(["volvo", "saab", "ford"], 1):
        form |= {f"question_{number}": "first_car", f"answer_{number}": answer}

    status, page = _post(client, "/preferences/security-questions?lang=en", form)

    assert status == 400
    assert "Please choose 3 different questions" in page
    assert len(services.questions.chosen_keys(account)) == 3
