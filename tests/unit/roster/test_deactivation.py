"""When a bulk import deactivates too much, and the numbers its refusal shows."""

from __future__ import annotations

import pytest

from idp.roster.oneroster.deactivation import ALWAYS_ALLOWED, Deactivation


@pytest.mark.parametrize(
    ("count", "total", "share_percent", "is_over"),
    [
        (0, 0, 0, False),  # a first import: nothing was active
        (ALWAYS_ALLOWED, ALWAYS_ALLOWED, 0, False),  # a small roster may all go
        (ALWAYS_ALLOWED + 1, 1000, 0, True),
        (100, 1000, 10, False),  # exactly the share
        (101, 1000, 10, True),
        (1200, 1250, 10, True),
        (1250, 1250, 100, False),  # 100 turns the check off
    ],
)
def test_is_over_past_the_share_and_past_the_few_always_allowed(
    count: int, total: int, share_percent: int, is_over: bool
) -> None:
    assert Deactivation(count, total).is_over(share_percent) is is_over


@pytest.mark.parametrize(
    ("count", "total", "percent"),
    [(1200, 1250, "96"), (1001, 10000, "10.1"), (10001, 100000, "10.1"), (1, 3, "33.4")],
)
def test_share_shown_is_rounded_up_so_it_never_reads_as_the_limit(
    count: int, total: int, percent: str
) -> None:
    params = Deactivation(count, total).params(10)

    assert params["percent"] == percent


def test_counts_are_shown_with_thousands_separators() -> None:
    params = Deactivation(1200, 1250).params(10)

    assert params == {"count": "1,200", "total": "1,250", "percent": "96", "limit": "10"}
