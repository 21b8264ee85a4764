"""The injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from idp.clock import FrozenClock, SystemClock, as_aware


def test_frozen_clock_moves_only_when_advanced() -> None:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))

    clock.advance(days=366)

    assert clock.now() == datetime(2027, 1, 2, tzinfo=UTC)


def test_frozen_clock_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="aware"):
        FrozenClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


def test_frozen_clock_normalises_to_utc() -> None:
    clock = FrozenClock(datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))))

    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    assert clock.now().tzinfo == UTC


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().utcoffset() == timedelta(0)


def test_as_aware_reads_naive_values_as_utc() -> None:
    assert as_aware(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)  # noqa: DTZ001
