"""Time, injected: the only module that reads the wall clock."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Source of the current time (aware UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """Return the current aware UTC time."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests, `--as-of` jobs)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        """Return the frozen time."""
        return self._at

    def advance(self, **delta: float) -> None:
        """Move the clock forward by a timedelta's keyword arguments (days=, minutes=...)."""
        self._at = self._at + timedelta(**delta)

    def set(self, at: datetime) -> None:
        """Jump to an aware time."""
        self._at = at.astimezone(UTC)


def today(clock: Clock) -> date:
    """The current UTC date according to the clock."""
    return clock.now().date()


def monotonic() -> float:
    """Seconds from an arbitrary origin, for measuring durations only."""
    return time.monotonic()


def as_aware(value: datetime) -> datetime:
    """Treat a naive datetime read back from SQLite as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
