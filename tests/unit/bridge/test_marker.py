"""The upgrade marker kept in the server-side session."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from idp.bridge.marker import BridgedSignIn

AT = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def test_marker_survives_the_session_round_trip() -> None:
    marker = BridgedSignIn(7, AT, "$argon2id$v=19$...")

    assert BridgedSignIn.from_session(marker.as_session()) == marker


def test_marker_without_hash_keeps_only_the_proof() -> None:
    stored = BridgedSignIn(7, AT, "$argon2id$v=19$...").without_password_hash().as_session()

    assert stored == {"credential_id": 7, "verified_at": int(AT.timestamp()), "password_hash": ""}


def test_hash_never_appears_in_the_markers_repr() -> None:
    assert "argon2" not in repr(BridgedSignIn(7, AT, "$argon2id$v=19$..."))


@pytest.mark.parametrize(
    "value",
    [
        None,
        "7",
        {"credential_id": "7", "verified_at": 1},
        {"credential_id": 7},
        {"credential_id": 7, "verified_at": 1.5},
        {"credential_id": 7, "verified_at": 1, "password_hash": 3},
    ],
)
def test_anything_else_in_the_session_is_no_marker(value: object) -> None:
    assert BridgedSignIn.from_session(value) is None
