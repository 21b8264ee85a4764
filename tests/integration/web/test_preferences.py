"""The Preferences page: contact choices, language, read-only details, through HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.models import Account, AccountKind
from idp.audit.models import AuditEvent
from idp.extensions import db
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, csrf_token, make_account, make_person

DEFAULT_TOPICS = ["grades", "attendance", "announcements"]  # policies/accounts.toml
PHONE = "555-0142"
ADDRESS = "12 Demo Street, Lakeview"
READ_ONLY = (
    "Your email address, phone number and address cannot be changed in the portal. "
    "To change them, contact your child's school."
)


def _guardian(
    services: Services, phone: str | None = PHONE, address: str | None = ADDRESS
) -> Account:
    """A guardian (parentuser1) linked to a roster person with these contact details."""
    account = make_account(services)
    person = make_person("guardian")
    person.phone, person.address = phone, address
    account.person_id = person.id
    db.session.commit()
    return account


def _sign_in(client: FlaskClient, username: str = "parentuser1") -> None:
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in", data={"username": username, "password": DEFAULT_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _save(client: FlaskClient, **fields: Any) -> Any:
    """Post the Preferences form with these fields (and its CSRF token)."""
    token = csrf_token(client.get("/preferences").get_data(as_text=True))
    return client.post("/preferences", data={"csrf_token": token, **fields})


def _alert(html: str) -> str:
    match = re.search(r'<div class="alert" role="alert" id="form-error">(.*?)</div>', html, re.S)
    assert match is not None, "no error message on the page"
    return match.group(1).strip()


def _choices(account: Account) -> tuple[str, list[str], str]:
    db.session.refresh(account)
    return account.communication_channel, account.communication_topics, account.locale


@pytest.fixture
def guardian(services: Services) -> Account:
    """A guardian with a phone and address on file."""
    return _guardian(services)


@pytest.fixture
def signed_in(client: FlaskClient, guardian: Account) -> FlaskClient:
    """The test client with the guardian signed in."""
    _sign_in(client)
    return client


def test_anonymous_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/preferences")

    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/preferences"


def test_home_page_links_to_preferences(signed_in: FlaskClient) -> None:
    page = signed_in.get("/").get_data(as_text=True)

    assert '<a href="/preferences">Preferences</a>' in page


def test_page_shows_the_saved_choices(signed_in: FlaskClient) -> None:
    page = signed_in.get("/preferences").get_data(as_text=True)

    checked = re.findall(r'<input checked id="[^"]+" name="(\w+)" type="\w+" value="(\w+)"', page)
    assert sorted(checked) == sorted(
        [("channel", "email")] + [("topics", topic) for topic in DEFAULT_TOPICS]
    )
    assert '<option lang="en" selected value="en">English</option>' in page


def test_saves_channel_and_topics_through_the_page(
    signed_in: FlaskClient, guardian: Account
) -> None:
    response = _save(signed_in, channel="both", topics=["tests", "grades"], locale="en")

    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert response.status_code == 303
    assert _choices(guardian) == ("both", ["grades", "tests"], "en")
    assert '<div class="notice" role="status">Your preferences are saved.</div>' in page


def test_saved_notice_is_shown_once(signed_in: FlaskClient) -> None:
    _save(signed_in, channel="email", topics=["grades"], locale="en")
    signed_in.get("/preferences")

    page = signed_in.get("/preferences").get_data(as_text=True)

    assert "Your preferences are saved." not in page


def test_unticking_every_topic_saves_no_topics(signed_in: FlaskClient, guardian: Account) -> None:
    _save(signed_in, channel="email", locale="en")

    assert _choices(guardian) == ("email", [], "en")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param(
            {"channel": "fax", "topics": ["grades"]},
            "Please choose how the school contacts you: email, text message, or both.",
            id="unknown-channel",
        ),
        pytest.param(
            {"channel": "email", "topics": ["grades", "lunch_menu"]},
            "Please choose topics from the list.",
            id="unknown-topic",
        ),
        pytest.param(
            {"channel": "email", "topics": ["grades"], "locale": "fr"},
            "Please choose a language from the list.",
            id="unknown-language",
        ),
    ],
)
def test_unknown_choice_is_refused_with_a_message_and_nothing_changes(
    signed_in: FlaskClient, guardian: Account, fields: dict[str, Any], message: str
) -> None:
    response = _save(signed_in, **{"locale": "en", **fields})

    assert response.status_code == 400
    assert _alert(response.get_data(as_text=True)) == message
    assert _choices(guardian) == ("email", DEFAULT_TOPICS, "en")


@pytest.mark.parametrize("channel", ["text", "both"])
def test_text_messages_without_a_phone_on_file_are_refused(
    client: FlaskClient, services: Services, channel: str
) -> None:
    guardian = _guardian(services, phone=None)
    _sign_in(client)

    response = _save(client, channel=channel, topics=["grades"], locale="en")

    assert response.status_code == 400
    assert _alert(response.get_data(as_text=True)) == (
        "The school has no phone number for you. Ask the school to add one, or choose email."
    )
    assert _choices(guardian) == ("email", DEFAULT_TOPICS, "en")


def test_page_says_where_text_messages_go(signed_in: FlaskClient) -> None:
    page = signed_in.get("/preferences").get_data(as_text=True)

    assert f"Text messages go to the phone number the school has on file: {PHONE}." in page


@pytest.mark.parametrize(
    "shown",
    [
        "<dd>parentuser1</dd>",
        "<dd>parent1@example.org</dd>",
        f"<dd>{PHONE}</dd>",
        f"<dd>{ADDRESS}</dd>",
        READ_ONLY,
        "Your username cannot be changed.",
    ],
)
def test_details_are_shown_read_only_with_how_to_change_them(
    signed_in: FlaskClient, shown: str
) -> None:
    page = signed_in.get("/preferences").get_data(as_text=True)

    assert shown in page
    assert 'name="email"' not in page


def test_missing_phone_and_address_are_not_on_file(client: FlaskClient, services: Services) -> None:
    _guardian(services, phone=None, address=None)
    _sign_in(client)

    page = client.get("/preferences").get_data(as_text=True)

    assert page.count("<dd>Not on file</dd>") == 2
    assert "The school has no phone number for you, so it can contact you by email only." in page


def test_page_links_to_change_password_and_security_questions(signed_in: FlaskClient) -> None:
    page = signed_in.get("/preferences").get_data(as_text=True)

    assert '<a href="/preferences/password">Change password</a>' in page
    assert '<a href="/preferences/security-questions">Change security questions</a>' in page


def test_language_change_shows_the_next_page_in_that_language(
    signed_in: FlaskClient, guardian: Account
) -> None:
    response = _save(signed_in, channel="email", topics=DEFAULT_TOPICS, locale="es")

    saved_page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    home = signed_in.get("/").get_data(as_text=True)
    assert _choices(guardian)[2] == "es"
    assert '<html lang="es" dir="ltr">' in saved_page
    assert '<html lang="es" dir="ltr">' in home


def test_arabic_makes_the_next_page_right_to_left(signed_in: FlaskClient) -> None:
    response = _save(signed_in, channel="email", topics=DEFAULT_TOPICS, locale="ar")

    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)

    assert '<html lang="ar" dir="rtl">' in page


def test_audit_event_names_the_changed_fields_only(
    signed_in: FlaskClient, guardian: Account
) -> None:
    _save(signed_in, channel="both", topics=["behaviour"], locale="so")

    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.event == "accounts:preferences:changed")
    ).scalars()
    assert [event.data for event in events] == [
        {"fields": ["communication_channel", "communication_topics", "locale"]}
    ]


def test_post_without_csrf_token_is_refused(signed_in: FlaskClient, guardian: Account) -> None:
    response = signed_in.post("/preferences", data={"channel": "both", "locale": "es"})

    assert response.status_code == 400
    assert _choices(guardian) == ("email", DEFAULT_TOPICS, "en")


def test_student_chooses_only_the_language(client: FlaskClient, services: Services) -> None:
    make_account(services, username="student0001", email=None, kind=AccountKind.STUDENT)
    _sign_in(client, "student0001")

    page = client.get("/preferences").get_data(as_text=True)

    assert "How the school contacts you" not in page
    assert 'name="channel"' not in page
    assert 'name="locale"' in page


def test_refused_choice_points_its_group_to_the_message(signed_in: FlaskClient) -> None:
    response = _save(signed_in, channel="email", topics=["lunch_menu"], locale="en")

    page = response.get_data(as_text=True)
    assert 'aria-describedby="topics-hint form-error"' in page
    assert 'aria-describedby="channel-hint"' in page
