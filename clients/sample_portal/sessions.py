"""Signed-in browser sessions, kept in this process (a sample: one process, lost on restart).

The browser's cookie holds only a random key; the tokens stay on the server. A production
app would keep these records in a shared store (database or Redis) so that every worker sees
the same sessions and the same back-channel logouts.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

# An access token this close to its expiry is refreshed before use.
EXPIRY_MARGIN_SECONDS = 30


@dataclass
class SignedIn:
    """What the app keeps about one signed-in browser session."""

    sub: str
    sid: str | None
    id_token: str
    access_token: str
    refresh_token: str | None
    expires_at: float
    locale: str | None = None
    name: str | None = None
    # Refresh tokens rotate: two requests of one browser must not refresh at once, or the
    # second would present a used refresh token and the provider would end the whole family.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def is_expired(self, now: float) -> bool:
        """Whether the access token is expired, or about to be."""
        return self.expires_at <= now + EXPIRY_MARGIN_SECONDS


class SessionStore:
    """Signed-in sessions by random key, and what back-channel logout has ended."""

    def __init__(self) -> None:
        self._records: dict[str, SignedIn] = {}
        self._ended_sids: dict[str, str | None] = {}  # sid -> the sub the token named
        self._seen_jtis: set[str] = set()
        self._lock = threading.Lock()

    def add(self, record: SignedIn) -> str:
        """Keep a new signed-in session; return the key for the browser's cookie."""
        key = secrets.token_urlsafe(32)
        with self._lock:
            self._records[key] = record
        return key

    def get(self, key: str | None) -> SignedIn | None:
        """The session of a cookie key, unless it is unknown or was ended meanwhile."""
        if not key:
            return None
        with self._lock:
            record = self._records.get(key)
            if record is not None and self._is_ended(record):
                del self._records[key]
                return None
            return record

    def _is_ended(self, record: SignedIn) -> bool:
        if record.sid is None or record.sid not in self._ended_sids:
            return False
        sub = self._ended_sids[record.sid]
        return sub is None or sub == record.sub

    def remove(self, key: str | None) -> None:
        """Forget one session (local sign-out)."""
        if key:
            with self._lock:
                self._records.pop(key, None)

    def end(self, sid: str | None, sub: str | None) -> int:
        """Back-Channel Logout 1.0, 2.7: end the sessions with this sid (remembered, so a
        session stored later is ended too), or every session of `sub` when no sid is given."""
        if sid is None and sub is None:
            return 0
        with self._lock:
            if sid is not None:
                self._ended_sids[sid] = sub
            ended = [
                key
                for key, record in self._records.items()
                if (record.sid == sid or sid is None) and (record.sub == sub or sub is None)
            ]
            for key in ended:
                del self._records[key]
        return len(ended)

    def is_replay(self, jti: str) -> bool:
        """Whether a logout token id was seen before; remembers it (2.6: jti replay check)."""
        with self._lock:
            if jti in self._seen_jtis:
                return True
            self._seen_jtis.add(jti)
            return False
