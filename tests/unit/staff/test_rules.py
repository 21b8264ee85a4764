"""Staff's reason for an act: one line, required, bounded."""

from __future__ import annotations

import pytest

from idp.staff.rules import cleaned_reason


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("Court order 2026-114", "Court order 2026-114"),
        ("  Court\norder \t 2026-114 ", "Court order 2026-114"),
        (" " + "x" * 20 + " ", "x" * 20),
    ],
)
def test_a_reason_is_kept_on_one_line(reason: str, expected: str) -> None:
    assert cleaned_reason(reason, max_length=20) == expected


@pytest.mark.parametrize("reason", ["", "   ", "\n\t", "x" * 21])
def test_an_empty_or_too_long_reason_is_refused(reason: str) -> None:
    assert cleaned_reason(reason, max_length=20) is None
