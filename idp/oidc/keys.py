"""ID token signing keys: creation, rotation with delayed activation, and the JWKS.

Timeline of a key: published from creation, signs from `activated_at` until `retired_at`,
published until `unpublish_after`. A key is active at `t` when
`activated_at <= t < retired_at` (no `retired_at`: open-ended).

Rotation: web workers cache the JWKS (and their choice of signing key) for
JWKS_CACHE_SECONDS, and `rotate()` usually runs in another process (the CLI). So the new key
is published at once but only signs from `now + JWKS_CACHE_SECONDS`, and the old key keeps
signing until that same instant: by then every worker publishes the new key. The old key
stays published for the longest token lifetime plus a margin after it stops signing.
A key created because none was active (first start, `ensure_keys()`) signs at once: nothing
could sign before, so there is no hand-over to wait for.

Transactions: `ensure_keys()` and `rotate()` own their transaction and commit, with the
outbox worker the only places outside the edges that do (idp/unit_of_work.py,
tests/unit/test_one_owner_of_the_transaction.py): the race below is settled by reading what
other processes committed. They run at start-up (CLI, worker) or lazily, when a token or the
JWKS is needed and no key is active (a fresh install), which commits whatever the caller has
pending. `ensure_keys()` writes only when a key is missing or a race left overlapping keys.

Races: the table has no "one active key per alg" constraint (kids are random, so two inserts
never collide). Two processes that both find no key, or rotate at once, may each insert one.
Each re-reads after its commit (`_settle`): per alg, the keys that sign now or later are
ordered by activation (then lowest kid last, the winner) and each one stops signing when the
next one starts (or now, if that is already past), so exactly one key is active at any time.
A key cut short stays published as long as a rotation would keep it, so whatever it signed
in between still verifies.
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from joserfc.jwk import ECKey, Key, KeyParameters, KeySet, RSAKey, import_key
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.config import Settings
from idp.oidc.errors import SigningKeyError
from idp.oidc.models import SigningKey
from idp.policy import OidcPolicy, Policies

ALGORITHMS = ("RS256", "ES256")
RSA_KEY_BITS = 2048
JWKS_CACHE_SECONDS = 60
# Margin on top of the longest token lifetime before a retired key leaves the JWKS (clock skew,
# relying parties that verify a little late, a worker's cached choice of signing key).
UNPUBLISH_MARGIN_MINUTES = 5


@dataclass(frozen=True)
class _CachedJwks:
    document: dict[str, Any]
    computed_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class _CachedSigner:
    """The active key of one alg, valid while `computed_at <= now < expires_at`."""

    kid: str
    key: Key
    computed_at: datetime
    expires_at: datetime


def key_state(key: SigningKey, at: datetime) -> str:
    """`pending` (not yet signing), `active`, `retired` or `unpublished` at time `at`."""
    if key.unpublish_after is not None and key.unpublish_after <= at:
        return "unpublished"
    if key.retired_at is not None and key.retired_at <= at:
        return "retired"
    return "active" if _is_active(key, at) else "pending"


class SigningKeyService:
    """The asymmetric keys that sign ID tokens; private parts are Fernet-encrypted at rest."""

    def __init__(
        self, session: Session, clock: Clock, policy: OidcPolicy, key_encryption_key: str
    ) -> None:
        self._session = session
        self._clock = clock
        self._policy = policy
        try:
            self._fernet = Fernet(key_encryption_key.encode())
        except ValueError:
            raise SigningKeyError(
                "IDP_KEY_ENCRYPTION_KEY: must be a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
        # The service lives as long as the app (one per process): decrypt each key once, and
        # look the signing key up at most once per JWKS_CACHE_SECONDS and alg.
        self._private_keys: dict[str, Key] = {}
        self._signers: dict[str, _CachedSigner] = {}
        self._jwks_cache: _CachedJwks | None = None

    def ensure_keys(self) -> None:
        """Make sure one RS256 and one ES256 key are active; idempotent and race-safe."""
        now = self._clock.now()
        schedule = self._schedule(now)
        missing = [alg for alg in ALGORITHMS if _active_in(schedule.get(alg, []), now) is None]
        if missing:
            for alg in missing:
                self._session.add(self._new_key(alg, now, activated_at=now))
            self._session.commit()
        if missing or any(_overlaps(keys, now) for keys in schedule.values()):
            self._settle()

    def signing_key(self, alg: str) -> Key:
        """The active private key for `alg`, with its `kid` set (created if there is none)."""
        return self._signer(alg).key

    def active_kid(self, alg: str) -> str:
        """The kid of the active key for `alg` (created if there is none)."""
        return self._signer(alg).kid

    def signing_key_with_kid(self, alg: str) -> tuple[Key, str]:
        """The active private key for `alg` and its kid, from one lookup (they always match)."""
        signer = self._signer(alg)
        return signer.key, signer.kid

    def jwks(self) -> dict[str, Any]:
        """`{"keys": [...]}`: the public JWK of every published key, cached for 60 s."""
        now = self._clock.now()
        cached = self._jwks_cache
        if cached is None or not cached.computed_at <= now < cached.expires_at:
            rows = self._published(now)
            if any(not _any_active(rows, alg, now) for alg in ALGORITHMS):
                self.ensure_keys()
                rows = self._published(now)
            cached = _jwks_document(rows, now)
            self._jwks_cache = cached
        return copy.deepcopy(cached.document)

    def public_key_set(self) -> KeySet:
        """The published public keys as a joserfc KeySet (to verify our own tokens)."""
        return KeySet([import_key(jwk) for jwk in self.jwks()["keys"]])

    def rotate(self, alg: str) -> SigningKey:
        """Publish a new key for `alg` now; it signs from `activated_at`, JWKS_CACHE_SECONDS
        later (at once if no key was signing), when the current key stops signing."""
        _check_alg(alg)
        now = self._clock.now()
        schedule = self._schedule(now, alg).get(alg, [])
        starts_at = now
        if _active_in(schedule, now) is not None:
            starts_at = now + timedelta(seconds=JWKS_CACHE_SECONDS)
        for old in schedule:
            if old.retired_at is None:
                self._retire(old, starts_at)
        key = self._new_key(alg, now, activated_at=starts_at)
        self._session.add(key)
        self._session.commit()
        self._settle()
        return key

    def list_keys(self) -> list[SigningKey]:
        """Every key, oldest first."""
        query = select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid)
        return list(self._session.scalars(query.execution_options(populate_existing=True)))

    def _signer(self, alg: str) -> _CachedSigner:
        """The cached active key for `alg`; looked up (and created if missing) when stale."""
        _check_alg(alg)
        now = self._clock.now()
        cached = self._signers.get(alg)
        if cached is not None and cached.computed_at <= now < cached.expires_at:
            return cached
        signer = self._load_signer(alg, now)
        if signer is None:
            self.ensure_keys()
            # Re-read the clock: the new key is active from ensure_keys' own `now`.
            signer = self._load_signer(alg, self._clock.now())
        if signer is None:
            raise SigningKeyError(f"no active {alg} signing key, even after creating one")
        self._signers[alg] = signer
        return signer

    def _load_signer(self, alg: str, now: datetime) -> _CachedSigner | None:
        schedule = self._schedule(now, alg).get(alg, [])
        row = _active_in(schedule, now)
        if row is None:
            return None
        # Look again when the cache is stale, this key stops signing or the next one starts.
        expiries = [now + timedelta(seconds=JWKS_CACHE_SECONDS)]
        expiries += [row.retired_at] if row.retired_at is not None else []
        expiries += [
            key.activated_at for key in schedule if key.activated_at and key.activated_at > now
        ]
        return _CachedSigner(row.kid, self._private_key(row), now, min(expiries))

    def _private_key(self, row: SigningKey) -> Key:
        key = self._private_keys.get(row.kid)
        if key is None:
            key = self._decrypt(row)
            self._private_keys[row.kid] = key
        return key

    def _new_key(self, alg: str, now: datetime, activated_at: datetime) -> SigningKey:
        # Random kid: it must not reveal when the key was made (no timestamps).
        kid = secrets.token_urlsafe(16)
        key = _generate(alg, kid)
        private_jwk = json.dumps(key.as_dict(private=True)).encode()
        return SigningKey(
            kid=kid,
            alg=alg,
            public_jwk=dict(key.as_dict(private=False)),
            private_key_encrypted=self._fernet.encrypt(private_jwk).decode("ascii"),
            created_at=now,
            activated_at=activated_at,
        )

    def _decrypt(self, row: SigningKey) -> Key:
        try:
            private_jwk = self._fernet.decrypt(row.private_key_encrypted.encode("ascii"))
        except InvalidToken:
            raise SigningKeyError(
                f"signing key {row.kid} cannot be decrypted: IDP_KEY_ENCRYPTION_KEY is not"
                " the key it was encrypted with"
            ) from None
        return import_key(json.loads(private_jwk))

    def _schedule(self, now: datetime, alg: str | None = None) -> dict[str, list[SigningKey]]:
        """Per alg, the keys that sign now or will: by activation, the winner of a tie last."""
        query = select(SigningKey).where(
            SigningKey.activated_at.is_not(None),
            or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > now),
        )
        if alg is not None:
            query = query.where(SigningKey.alg == alg)
        query = query.order_by(SigningKey.activated_at, SigningKey.kid.desc())
        by_alg: dict[str, list[SigningKey]] = {}
        for key in self._session.scalars(query.execution_options(populate_existing=True)):
            by_alg.setdefault(key.alg, []).append(key)
        return by_alg

    def _settle(self) -> None:
        """Re-read after a commit: each key stops signing when the next one starts."""
        now = self._clock.now()
        for keys in self._schedule(now).values():
            for key, successor in pairwise(keys):
                stop = _stop_at(key, successor, now)
                if stop is not None:
                    self._retire(key, stop)
        self._session.commit()
        self._jwks_cache = None
        self._signers.clear()

    def _retire(self, key: SigningKey, at: datetime) -> None:
        """Stop signing with `key` at `at`; publish it until what it signed has expired."""
        tokens = self._policy.tokens
        # Access tokens are opaque today, but cover every lifetime in case that changes.
        longest_minutes = max(
            tokens.id_token_minutes, tokens.access_token_minutes, tokens.client_credentials_minutes
        )
        unpublish_after = at + timedelta(minutes=longest_minutes + UNPUBLISH_MARGIN_MINUTES)
        key.retired_at = at
        # A key cut short by a race is never published for less than it was promised.
        if key.unpublish_after is None or key.unpublish_after < unpublish_after:
            key.unpublish_after = unpublish_after

    def _published(self, now: datetime) -> list[SigningKey]:
        published = or_(SigningKey.unpublish_after.is_(None), SigningKey.unpublish_after > now)
        query = (
            select(SigningKey)
            .where(published)
            .order_by(SigningKey.created_at, SigningKey.kid)
            .execution_options(populate_existing=True)
        )
        return list(self._session.scalars(query))


def build_signing_keys(
    session: Session, clock: Clock, policies: Policies, settings: Settings
) -> SigningKeyService:
    """Wire a SigningKeyService (until it joins the Services container)."""
    return SigningKeyService(session, clock, policies.oidc, settings.key_encryption_key)


def _is_active(key: SigningKey, at: datetime) -> bool:
    """`activated_at <= at < retired_at` (no retired_at: still signing)."""
    return (
        key.activated_at is not None
        and key.activated_at <= at
        and (key.retired_at is None or key.retired_at > at)
    )


def _active_in(schedule: list[SigningKey], at: datetime) -> SigningKey | None:
    """The winner among the keys of one alg active at `at` (the last in schedule order)."""
    return next((key for key in reversed(schedule) if _is_active(key, at)), None)


def _any_active(rows: list[SigningKey], alg: str, at: datetime) -> bool:
    return any(row.alg == alg and _is_active(row, at) for row in rows)


def _stop_at(key: SigningKey, successor: SigningKey, now: datetime) -> datetime | None:
    """When `key` must stop signing so that it never overlaps `successor`; None if it does not."""
    stop = max(now, successor.activated_at or now)  # the schedule holds activated keys only
    return stop if key.retired_at is None or key.retired_at > stop else None


def _overlaps(schedule: list[SigningKey], now: datetime) -> bool:
    return any(_stop_at(key, successor, now) is not None for key, successor in pairwise(schedule))


def _jwks_document(rows: list[SigningKey], now: datetime) -> _CachedJwks:
    # Refresh early when a key is due to leave, so it never outlives unpublish_after.
    expiries = [row.unpublish_after for row in rows if row.unpublish_after is not None]
    expires_at = min([now + timedelta(seconds=JWKS_CACHE_SECONDS), *expiries])
    document = {"keys": [dict(row.public_jwk) for row in rows]}
    return _CachedJwks(document=document, computed_at=now, expires_at=expires_at)


def _check_alg(alg: str) -> None:
    if alg not in ALGORITHMS:
        raise SigningKeyError(f"unsupported signing algorithm {alg!r}: use RS256 or ES256")


def _generate(alg: str, kid: str) -> RSAKey | ECKey:
    parameters: KeyParameters = {"kid": kid, "alg": alg, "use": "sig"}
    if alg == "RS256":
        return RSAKey.generate_key(RSA_KEY_BITS, parameters=parameters)
    return ECKey.generate_key("P-256", parameters=parameters)
