"""Failure counters per name (sign-in names, Person IDs...), known or not, in the database.

Kept in the database rather than in the rate limiter's storage so that every worker sees the
same count, the lock survives restarts, and a test can move time with the injected clock.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.credentials.models import SignInThrottle
from idp.credentials.queries import FORGET_THROTTLE, LOOK_UP_THROTTLE
from idp.policy import LockoutPolicy


class Standing(NamedTuple):
    """A name's throttle state: minutes left on its lock, and whether any row counts it."""

    locked_minutes: int | None
    has_record: bool


class FailureThrottle:
    """Counts failures per name within a window and locks the name for a while after too many.

    `namespace` keeps counters of different forms apart (sign-in, registration...). Names are
    stored only as an HMAC, so the table reveals no username or Person ID.
    """

    def __init__(
        self,
        session: Session,
        clock: Clock,
        policy: LockoutPolicy,
        name_key: bytes,
        namespace: str = "",
    ) -> None:
        self._session = session
        self._clock = clock
        self._policy = policy
        self._name_key = name_key
        self._namespace = namespace

    def digest(self, name: str) -> str:
        """The HMAC stored for a name (normalised: trimmed, without case)."""
        normalised = (self._namespace + name.strip().lower()).encode()
        return hmac.new(self._name_key, normalised, hashlib.sha256).hexdigest()

    def locked_minutes(self, name: str) -> int | None:
        """Minutes left on the name's lock (at least 1), or None when it is not locked."""
        return self.standing(name).locked_minutes

    def locked_until(self, name: str) -> datetime | None:
        """When the name's lock ends, or None when it is not locked now."""
        row = self._session.execute(LOOK_UP_THROTTLE, {"name_digest": self.digest(name)}).first()
        if row is None or row.locked_until is None or row.locked_until <= self._clock.now():
            return None
        locked_until: datetime = row.locked_until
        return locked_until

    def standing(self, name: str) -> Standing:
        """Whether the name is locked and whether it has anything counted (one SELECT)."""
        params = {"name_digest": self.digest(name)}
        row = self._session.execute(LOOK_UP_THROTTLE, params).first()  # flushes a count just made
        return self.standing_of(row is not None, row.locked_until if row else None)

    def standing_of(self, has_record: bool, locked_until: datetime | None) -> Standing:
        """The standing of a name whose row (`has_record`, its `locked_until`) the caller read
        itself, with other data in the same statement (the sign-in reads it with the account)."""
        now = self._clock.now()
        if not has_record or locked_until is None or locked_until <= now:
            return Standing(locked_minutes=None, has_record=has_record)
        minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
        return Standing(locked_minutes=minutes, has_record=True)

    def record_failure(self, name: str) -> bool:
        """Count one failure (in the caller's transaction); True if the name is now locked.

        Locks grow: the first lasts `first_lock_minutes`, each further one in a row twice the
        one before, up to `max_lock_minutes`. A quiet window after the last lock forgets them.
        """
        now = self._clock.now()
        row = self._locked_row(self.digest(name), now)
        window = timedelta(minutes=self._policy.window_minutes)
        if row.window_started_at + window <= now:
            row.failure_count = 0
            row.window_started_at = now
            if row.locked_until is None or row.locked_until + window <= now:
                row.lock_count = 0
        row.failure_count += 1
        if row.failure_count < self._policy.lock_after_failures:
            return False
        row.locked_until = now + timedelta(minutes=self._policy.lock_minutes(row.lock_count))
        row.lock_count += 1
        row.failure_count = 0
        row.window_started_at = now
        return True

    def clear(self, name: str) -> None:
        """Forget the name's failures (after a success): one DELETE, whether or not any."""
        self._session.connection().execute(FORGET_THROTTLE, {"name_digest": self.digest(name)})

    def _locked_row(self, digest: str, now: datetime) -> SignInThrottle:
        row = self._session.get(SignInThrottle, digest, with_for_update=True)
        if row is not None:
            return row
        try:
            with self._session.begin_nested():
                row = SignInThrottle(
                    name_digest=digest, failure_count=0, lock_count=0, window_started_at=now
                )
                self._session.add(row)
        except IntegrityError:
            # Another request created it first: take that one, locked.
            row = self._session.get(SignInThrottle, digest, with_for_update=True)
        assert row is not None  # noqa: S101 - it exists either way by now
        return row
