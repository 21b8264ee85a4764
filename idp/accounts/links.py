"""Signed, timed links sent by email (itsdangerous), timed by the injected clock.

A link carries only the account id and its purpose, signed with the secret key and a salt per
purpose, so a verification link can never be replayed as a password-reset link. Whether a link
was already used is decided by the account's state, not by the link.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from idp.clock import Clock


class _ClockSigner(TimestampSigner):
    """itsdangerous reads the wall clock; this signer asks the injected clock instead."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock.now().timestamp())


@dataclass(frozen=True)
class LinkReading:
    """What a genuine link says: its account, and whether it is past its lifetime."""

    account_id: int
    is_expired: bool
    bound_to: str = ""


class SignedLinks:
    """Makes and reads the token part of emailed links."""

    def __init__(self, secret_key: str, clock: Clock) -> None:
        self._secret_key = secret_key
        self._clock = clock

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            self._secret_key,
            salt=f"idp.link.{purpose}",
            signer=_ClockSigner,
            signer_kwargs={"clock": self._clock, "digest_method": hashlib.sha256},
        )

    def make(self, account_id: int, purpose: str, bound_to: str = "") -> str:
        """A URL-safe token for this account and purpose, timestamped now. `bound_to` is a
        fingerprint of the state the link is valid for (e.g. the current password)."""
        payload = {"a": account_id, "p": purpose, "b": bound_to}
        return str(self._serializer(purpose).dumps(payload))

    def read(self, token: str, purpose: str, max_age_seconds: int) -> LinkReading | None:
        """The link's account (expired or not), or None if the token is not a genuine one."""
        serializer = self._serializer(purpose)
        try:
            payload = serializer.loads(token, max_age=max_age_seconds)
            is_expired = False
        except SignatureExpired as expired:
            payload = serializer.load_payload(expired.payload) if expired.payload else None
            is_expired = True
        except BadSignature:
            return None
        if not isinstance(payload, dict) or payload.get("p") != purpose:
            return None
        account_id = payload.get("a")
        if not isinstance(account_id, int) or isinstance(account_id, bool):
            return None
        return LinkReading(account_id, is_expired, str(payload.get("b", "")))
