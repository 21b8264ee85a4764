"""Preferences as the account service saves them: channel, topics, language, and the audit."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from idp.accounts.errors import (
    ChannelInvalidError,
    LocaleInvalidError,
    PhoneMissingError,
    PreferenceError,
    TopicInvalidError,
)
from idp.accounts.models import Account, AccountKind
from idp.audit.models import AuditEvent
from idp.extensions import db
from idp.services import Services
from tests.builders import make_account, make_person

CHANGED = "accounts:preferences:changed"
DEFAULT_TOPICS = ["grades", "attendance", "announcements"]  # policies/accounts.toml


def _guardian(services: Services, phone: str | None = "555-0142") -> Account:
    """A guardian account linked to a roster person with (or without) a phone on file."""
    account = make_account(services)
    person = make_person("guardian")
    person.phone = phone
    account.person_id = person.id
    db.session.commit()
    return account


def _events() -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.event == CHANGED)
    return list(db.session.execute(query).scalars())


def _choices(account: Account) -> tuple[str, list[str], str]:
    db.session.refresh(account)
    return account.communication_channel, account.communication_topics, account.locale


def test_new_guardian_starts_with_the_policys_default_topics_by_email(
    services: Services,
) -> None:
    account = make_account(services)

    assert _choices(account) == ("email", DEFAULT_TOPICS, "en")


def test_new_student_starts_with_no_topics(services: Services) -> None:
    account = make_account(services, username="student0001", email=None, kind=AccountKind.STUDENT)

    assert account.communication_topics == []


def test_saves_topics_without_repeats_in_the_policys_order(services: Services) -> None:
    account = _guardian(services)

    services.accounts.update_preferences(account, "both", ["tests", "grades", "tests"], "es")

    assert _choices(account) == ("both", ["grades", "tests"], "es")


def test_no_topics_at_all_is_a_valid_choice(services: Services) -> None:
    account = _guardian(services)

    services.accounts.update_preferences(account, "email", [], "en")

    assert _choices(account) == ("email", [], "en")


@pytest.mark.parametrize(
    ("channel", "topics", "locale", "error"),
    [
        pytest.param("fax", ["grades"], "en", ChannelInvalidError, id="unknown-channel"),
        pytest.param("", ["grades"], "en", ChannelInvalidError, id="no-channel"),
        pytest.param("email", ["grades", "lunch_menu"], "en", TopicInvalidError, id="topic"),
        pytest.param("email", ["grades"], "fr", LocaleInvalidError, id="unknown-locale"),
    ],
)
def test_refuses_unknown_values_and_changes_nothing(
    services: Services, channel: str, topics: list[str], locale: str, error: type[PreferenceError]
) -> None:
    account = _guardian(services)

    with pytest.raises(error):
        services.accounts.update_preferences(account, channel, topics, locale)

    assert _choices(account) == ("email", DEFAULT_TOPICS, "en")
    assert _events() == []


@pytest.mark.parametrize("channel", ["text", "both"])
def test_refuses_text_messages_without_a_phone_on_file(
    app: Flask, services: Services, channel: str
) -> None:
    account = _guardian(services, phone=None)

    with pytest.raises(PhoneMissingError) as caught:
        services.accounts.update_preferences(account, channel, ["grades"], "en")

    with app.test_request_context():
        message = caught.value.render()
    assert message == (
        "The school has no phone number for you. Ask the school to add one, or choose email."
    )
    assert _choices(account) == ("email", DEFAULT_TOPICS, "en")


def test_refuses_text_messages_for_an_account_without_a_roster_person(
    services: Services,
) -> None:
    account = make_account(services)

    with pytest.raises(PhoneMissingError):
        services.accounts.update_preferences(account, "text", ["grades"], "en")


@pytest.mark.parametrize("channel", ["text", "both"])
def test_allows_text_messages_with_a_phone_on_file(services: Services, channel: str) -> None:
    account = _guardian(services, phone="555-0142")

    services.accounts.update_preferences(account, channel, ["attendance"], "en")

    assert _choices(account) == (channel, ["attendance"], "en")


def test_student_saves_only_the_language(services: Services) -> None:
    account = make_account(services, username="student0001", email=None, kind=AccountKind.STUDENT)

    services.accounts.update_preferences(account, "text", ["grades"], "so")

    assert _choices(account) == ("email", [], "so")


def test_audit_event_names_the_changed_fields_without_their_values(
    services: Services,
) -> None:
    account = _guardian(services)

    services.accounts.update_preferences(account, "text", DEFAULT_TOPICS, "vi")

    [event] = _events()
    assert event.data == {"fields": ["communication_channel", "locale"]}
    assert (event.actor_account_id, event.subject_account_id) == (account.id, account.id)


def test_saving_unchanged_preferences_records_no_event(services: Services) -> None:
    account = _guardian(services)

    services.accounts.update_preferences(account, "email", DEFAULT_TOPICS, "en")

    assert _events() == []


def test_preferences_show_the_contact_details_on_file(services: Services) -> None:
    account = _guardian(services, phone="555-0142")

    shown = services.accounts.preferences(account)

    assert (shown.username, shown.email, shown.phone, shown.address) == (
        "parentuser1",
        "parent1@example.org",
        "555-0142",
        None,
    )
    assert shown.topics_offered == ("grades", "attendance", "behaviour", "tests", "announcements")
    assert shown.has_contact_preferences is True


def test_student_has_no_contact_preferences(services: Services) -> None:
    account = make_account(services, username="student0001", email=None, kind=AccountKind.STUDENT)

    shown = services.accounts.preferences(account)

    assert shown.has_contact_preferences is False
