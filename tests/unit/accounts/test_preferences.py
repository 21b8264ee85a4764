"""Contact preference rules: topic order, who has contact preferences, labelled keys."""

from __future__ import annotations

import pytest

from idp.accounts.models import Account, AccountKind
from idp.accounts.preferences import (
    CHANNEL_LABELS,
    CHANNELS,
    TEXT_CHANNELS,
    TOPIC_LABELS,
    has_contact_preferences,
    ordered_topics,
)
from idp.policy import KNOWN_TOPICS

OFFERED = ("grades", "attendance", "behaviour", "tests", "announcements")


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (["tests", "grades"], ["grades", "tests"]),
        (["grades", "grades", "announcements"], ["grades", "announcements"]),
        ([], []),
    ],
)
def test_orders_chosen_topics_as_the_policy_lists_them(
    chosen: list[str], expected: list[str]
) -> None:
    assert ordered_topics(chosen, OFFERED) == expected


@pytest.mark.parametrize(
    ("kind", "expected"),
    [(AccountKind.GUARDIAN, True), (AccountKind.STAFF, True), (AccountKind.STUDENT, False)],
)
def test_only_students_have_no_contact_preferences(kind: AccountKind, expected: bool) -> None:
    assert has_contact_preferences(kind) is expected


def test_channels_match_the_database_check_and_text_channels_are_among_them() -> None:
    [check] = [c for c in Account.__table__.constraints if c.name == "ck_account_channel"]

    assert str(check.sqltext) == "communication_channel IN ('email', 'text', 'both')"
    assert CHANNELS == ("email", "text", "both") == tuple(CHANNEL_LABELS)
    assert set(CHANNELS) > TEXT_CHANNELS


def test_every_topic_the_policy_may_offer_has_a_label_and_no_other() -> None:
    assert tuple(TOPIC_LABELS) == KNOWN_TOPICS
