"""Contact preferences: the channels and topics the school may contact an account by and about."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import LazyString, lazy_gettext

# How the school contacts a person; the same values as the account table's `channel` CHECK.
CHANNEL_LABELS: dict[str, LazyString] = {
    "email": lazy_gettext("Email"),
    "text": lazy_gettext("Text message"),
    "both": lazy_gettext("Email and text message"),
}
CHANNELS: tuple[str, ...] = tuple(CHANNEL_LABELS)
# The channels that send text messages, to the phone number the school has on file.
TEXT_CHANNELS: frozenset[str] = frozenset({"text", "both"})

# The label (translated when shown) of every topic key policies/accounts.toml
# `[communication] topics` may list: the keys are idp.policy's KNOWN_TOPICS, in the same order
# (tests/unit/accounts/test_preferences.py), and any other key is refused when the policy loads.
TOPIC_LABELS: dict[str, LazyString] = {
    "grades": lazy_gettext("Grades"),
    "attendance": lazy_gettext("Attendance"),
    "behaviour": lazy_gettext("Behaviour"),
    "tests": lazy_gettext("Tests"),
    "announcements": lazy_gettext("School announcements"),
}

# Students have no email address: the school contacts their guardians, never them.
_KINDS_WITHOUT_CONTACT = frozenset({"student"})


def has_contact_preferences(kind: str) -> bool:
    """True if an account of this kind chooses how and about what the school contacts it."""
    return kind not in _KINDS_WITHOUT_CONTACT


def ordered_topics(chosen: Iterable[str], known: Iterable[str]) -> list[str]:
    """The `chosen` topics without repeats, in the order of `known` (the policy's order)."""
    wanted = set(chosen)
    return [topic for topic in known if topic in wanted]
