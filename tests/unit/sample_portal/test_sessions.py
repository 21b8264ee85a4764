"""The sample app's in-process sessions and back-channel bookkeeping (sessions.py)."""

from __future__ import annotations

import pytest

from clients.sample_portal.sessions import EXPIRY_MARGIN_SECONDS, SessionStore, SignedIn


def _record(sub: str = "sub-1", sid: str | None = "sid-1") -> SignedIn:
    return SignedIn(sub, sid, "id.token.x", "access", "refresh", expires_at=1000.0)


@pytest.mark.parametrize(
    ("sid", "sub", "ended"),
    [
        ("sid-1", None, {"a"}),
        ("sid-1", "sub-1", {"a"}),
        ("sid-1", "sub-2", set()),
        (None, "sub-1", {"a", "b"}),
        ("sid-9", None, set()),
    ],
)
def test_backchannel_logout_ends_the_sessions_it_names(
    sid: str | None, sub: str | None, ended: set[str]
) -> None:
    store = SessionStore()
    keys = {
        "a": store.add(_record("sub-1", "sid-1")),
        "b": store.add(_record("sub-1", "sid-2")),
        "c": store.add(_record("sub-2", "sid-3")),
    }

    count = store.end(sid, sub)

    assert count == len(ended)
    assert {name for name, key in keys.items() if store.get(key) is None} == ended


def test_a_session_stored_after_its_sid_was_ended_is_ended_too() -> None:
    store = SessionStore()
    store.end("sid-1", "sub-1")

    key = store.add(_record())

    assert store.get(key) is None


def test_keys_are_random_and_unknown_keys_find_nothing() -> None:
    store = SessionStore()

    first, second = store.add(_record()), store.add(_record())

    assert first != second
    assert len(first) >= 43
    assert store.get("unknown") is None
    assert store.get(None) is None


def test_removed_session_is_gone() -> None:
    store = SessionStore()
    key = store.add(_record())

    store.remove(key)

    assert store.get(key) is None


def test_a_logout_token_id_counts_once() -> None:
    store = SessionStore()

    assert [store.is_replay("j1"), store.is_replay("j1"), store.is_replay("j2")] == [
        False,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("now", "is_expired"),
    [(900.0, False), (1000.0 - EXPIRY_MARGIN_SECONDS - 1, False), (1000.0 - 10, True)],
)
def test_an_access_token_is_refreshed_a_little_before_it_expires(
    now: float, is_expired: bool
) -> None:
    assert _record().is_expired(now) is is_expired
