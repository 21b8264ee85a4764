"""Codes and tokens: random (256 bits), stored only as SHA-256 digests, single use, rotated.

Redemption and rotation are single UPDATE statements guarded by `... IS NULL`, so of two
concurrent requests with the same code or refresh token exactly one wins, on every database.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from idp.accounts.queries import TOUCH_ACTIVITY
from idp.clock import Clock
from idp.oidc.models import AuthorizationCode, OAuthToken
from idp.oidc.queries import (
    CLAIM_REFRESH,
    FIND_ACCESS,
    INSERT_CODE,
    INSERT_TOKEN,
    INTROSPECT,
    IS_OFFLINE,
    REDEEM_CODE,
    TOKEN_OWNER,
    live_refresh,
)
from idp.policy import TokenPolicy
from idp.roster.access import VisibleStudent, read_visible_rows

log = logging.getLogger("idp.oidc")

# A loser of a concurrent refresh (same token, within this window) is refused without
# revoking the family: that is a race, not theft. Later reuse revokes the family.
CONCURRENT_REFRESH_GRACE = timedelta(seconds=5)


def new_secret() -> str:
    """A random token value: 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """What the database stores instead of a code or token."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """What a token row starts with (everything but its values and lifetimes)."""

    client_id: str
    account_id: int | None
    scope: str
    grant_type: str
    authorization_code_id: int | None = None
    sso_session_id: int | None = None
    auth_time: datetime | None = None
    amr: tuple[str, ...] = ()
    acr: str | None = None
    family_id: str | None = None
    family_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PersonView:
    """The person columns the claims read (idp/roster/access.py RosterPerson)."""

    id: int
    role: str
    is_active: bool
    sis_person_id: str
    given_name: str
    family_name: str
    birth_date: date | None


@dataclass(frozen=True, slots=True)
class AccountView:
    """The account columns the bearer check and the claims read (claims.ClaimsAccount)."""

    id: int
    sub: str
    kind: str
    state: str
    username: str | None
    email: str | None
    email_verified_at: datetime | None
    person_id: int | None
    locale: str
    communication_channel: str
    communication_topics: list[Any]
    loaded_person: PersonView | None
    # The `students` claim's rows (roster.access.read_visible_rows), when the statement that
    # read the account read them too (userinfo, token requests); None: the claims read them.
    loaded_student_rows: tuple[VisibleStudent, ...] | None = None


_PERSON_FIELDS = tuple(field.name for field in fields(PersonView))
_ACCOUNT_FIELDS = tuple(
    field.name
    for field in fields(AccountView)
    if field.name not in ("loaded_person", "loaded_student_rows")
)


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """The account of a code or refresh token, read as plain columns with its person and the
    `sid` of the token's SSO session (TokenStore.owner)."""

    account: AccountView
    last_activity_at: datetime | None
    sid: str | None


@dataclass(slots=True)
class RedeemedCode:
    """A code just redeemed (TokenStore.redeem_code): Authlib's AuthorizationCodeMixin, and
    what the tokens issued from it inherit."""

    id: int
    client_id: str
    account_id: int
    sso_session_id: int | None
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    claims_request: dict[str, Any] | None
    auth_time: datetime
    acr: str | None
    amr: list[str]
    sid: str | None = None  # of its SSO session: set by the code grant with the account

    def get_redirect_uri(self) -> str:
        """The redirect_uri the code was issued for."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """The granted scope."""
        return self.scope

    def get_nonce(self) -> str | None:
        """The request's nonce, echoed in the ID token."""
        return self.nonce

    def get_auth_time(self) -> int:
        """When the person signed in (seconds since the epoch)."""
        return int(self.auth_time.timestamp())

    def get_acr(self) -> str | None:
        """Authentication context class."""
        return self.acr

    def get_amr(self) -> list[str] | None:
        """Authentication methods used."""
        return list(self.amr) or None


@dataclass(frozen=True, slots=True)
class ClaimedRefresh:
    """A refresh token just rotated (TokenStore.claim_refresh): what Authlib's refresh grant
    asks of it (TokenMixin) and what the new tokens inherit from it."""

    client_id: str
    account_id: int | None
    scope: str
    authorization_code_id: int | None
    sso_session_id: int | None
    auth_time: datetime | None
    amr: list[str]
    acr: str | None
    family_id: str
    family_expires_at: datetime | None

    def check_client(self, client: Any) -> bool:
        """True if the token belongs to this client."""
        return bool(self.client_id == client.get_client_id())

    def get_scope(self) -> str:
        """The scope the token was granted."""
        return self.scope


@dataclass(slots=True)
class AccessGrant:
    """A live access token as the bearer validator hands it to Authlib (its TokenMixin).

    Only unexpired, unrevoked tokens are ever built (TokenStore.find_access checks both in
    SQL), so `is_expired` and `is_revoked` are False.
    """

    client_id: str
    scope: str
    owner: AccountView | None  # None: a client_credentials token
    client: Any = None  # the OidcClient, set by the bearer validator from the client cache

    def get_scope(self) -> str:
        """The token's scope."""
        return self.scope

    def is_expired(self) -> bool:
        """False: see the class docstring."""
        return False

    def is_revoked(self) -> bool:
        """False: see the class docstring."""
        return False

    def get_user(self) -> AccountView | None:
        """The token's account."""
        return self.owner

    def get_client(self) -> Any:
        """The token's client."""
        return self.client


class TokenStore:
    """Issues, finds, redeems, rotates and revokes codes and tokens."""

    def __init__(self, session: Session, clock: Clock, policy: TokenPolicy) -> None:
        self._session = session
        self._clock = clock
        self._policy = policy

    def save_code(self, code: str, **binding: Any) -> None:
        """Store a new authorization code (as a digest) with everything it is bound to.

        A plain INSERT statement, not an ORM add + flush: this is on every sign-in hop."""
        now = self._clock.now()
        values = {
            "code_digest": digest(code),
            "created_at": now,
            "expires_at": now + timedelta(seconds=self._policy.authorization_code_seconds),
            **binding,
        }
        self._session.connection().execute(INSERT_CODE, values)

    def redeem_code(self, code: str, client_id: str) -> RedeemedCode | None:
        """Mark a live code used and return it; None if unknown, expired or already used.

        A second redemption revokes every token issued from the code (RFC 6749 4.1.2).
        """
        now = self._clock.now()
        code_digest = digest(code)
        params = {"digest": code_digest, "code_client_id": client_id, "now": now}
        won = self._session.connection().execute(REDEEM_CODE, params).first()
        if won is not None:  # one round trip for the winner
            return RedeemedCode(**won._mapping)
        row = self._session.execute(
            select(AuthorizationCode).where(AuthorizationCode.code_digest == code_digest)
        ).scalar_one_or_none()
        if row is not None and row.redeemed_at is not None and row.client_id == client_id:
            revoked = self.revoke_where(OAuthToken.authorization_code_id == row.id)
            # ASVS 7.2: a replayed code is a security event (ids only, never the code).
            log.warning(
                "oidc:code:replayed code_id=%s account_id=%s client_id=%s tokens_revoked=%s",
                row.id,
                row.account_id,
                client_id,
                revoked,
            )
        return None

    def save(self, values: dict[str, Any], new: NewToken) -> None:
        """Store the digests of a freshly generated token response, with its binding.

        A plain INSERT statement, not an ORM add + flush: this is on every token request."""
        now = self._clock.now()
        refresh_token = values.get("refresh_token")
        family_expires_at = new.family_expires_at
        if refresh_token and family_expires_at is None:
            # Counted from the sign-in that started the family (policies/oidc.toml), which may
            # be hours before the code was exchanged; from now only if the sign-in is unknown.
            started = new.auth_time or now
            family_expires_at = started + timedelta(days=self._policy.refresh_absolute_days)
        fields = dict(
            access_token_digest=digest(values["access_token"]),
            refresh_token_digest=digest(refresh_token) if refresh_token else None,
            family_id=new.family_id or new_secret(),
            client_id=new.client_id,
            account_id=new.account_id,
            authorization_code_id=new.authorization_code_id,
            sso_session_id=new.sso_session_id,
            scope=new.scope,
            grant_type=new.grant_type,
            auth_time=new.auth_time,
            amr=list(new.amr),
            acr=new.acr,
            issued_at=now,
            access_expires_at=now + timedelta(seconds=int(values["expires_in"])),
            refresh_idle_expires_at=(
                now + timedelta(days=self._policy.refresh_idle_days) if refresh_token else None
            ),
            family_expires_at=family_expires_at if refresh_token else None,
        )
        self._session.connection().execute(INSERT_TOKEN, fields)

    def find_access(self, access_token: str) -> AccessGrant | None:
        """A live (unexpired, unrevoked) access token with its account and person, read as
        plain columns in one statement with the rows of its `students` claim: the whole
        database work of a userinfo request. ORM objects cost a third of the request
        (bench/oidc_bench.py)."""
        params = {"digest": digest(access_token), "now": self.now()}
        rows = self._session.connection().execute(FIND_ACCESS, params).all()
        if not rows:
            return None
        values = rows[0]._mapping  # the token's columns repeat on each student's row
        person = _person_view(values)
        owner = None
        if values["account.id"] is not None:
            fields = {name: values[f"account.{name}"] for name in _ACCOUNT_FIELDS}
            students = read_visible_rows(rows)
            owner = AccountView(**fields, loaded_person=person, loaded_student_rows=students)
        return AccessGrant(client_id=values["client_id"], scope=values["scope"], owner=owner)

    def find_any(self, value: str) -> OAuthToken | None:
        """The row holding this value as access or refresh token (revocation, introspection)."""
        value_digest = digest(value)
        return self._session.execute(
            select(OAuthToken).where(
                (OAuthToken.access_token_digest == value_digest)
                | (OAuthToken.refresh_token_digest == value_digest)
            )
        ).scalar_one_or_none()

    def find_for_introspection(self, value: str) -> Row[Any] | None:
        """What introspection needs of the token holding this value (access or refresh), with
        its account's `account_sub` and `account_state`, as one plain row (no ORM objects)."""
        return self._session.connection().execute(INTROSPECT, {"digest": digest(value)}).first()

    def live_refresh_scope(self, refresh_token: str, client_id: str) -> str | None:
        """The scope of a live refresh token of this client, without claiming it; else None."""
        query = select(OAuthToken.scope).where(
            *live_refresh(digest(refresh_token), client_id, self._clock.now())
        )
        return self._session.execute(query).scalar_one_or_none()

    def claim_refresh(self, refresh_token: str, client_id: str) -> ClaimedRefresh | None:
        """Rotate: mark a live refresh token used and return what the new tokens inherit from
        it; None if not allowed.

        Reuse of an already rotated token (outside the concurrency grace) revokes its family.
        """
        now = self._clock.now()
        refresh_digest = digest(refresh_token)
        params = {"digest": refresh_digest, "token_client_id": client_id, "now": now}
        claimed = self._session.connection().execute(CLAIM_REFRESH, params).first()
        won = ClaimedRefresh(**claimed._mapping) if claimed is not None else None  # one trip
        if won is not None:
            return won
        row = self._session.execute(
            select(OAuthToken)
            .where(OAuthToken.refresh_token_digest == refresh_digest)
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if row is None or row.rotated_at is None or row.client_id != client_id:
            return None
        if now - row.rotated_at > CONCURRENT_REFRESH_GRACE:  # reuse, not a race
            revoked = self.revoke_where(OAuthToken.family_id == row.family_id)
            log.warning(
                "oidc:refresh:reused token_id=%s account_id=%s client_id=%s tokens_revoked=%s",
                row.id,
                row.account_id,
                client_id,
                revoked,
            )
        return None

    def owner(self, account_id: int, sso_session_id: int | None) -> TokenOwner | None:
        """The account (with person and the rows of its `students` claim) a code or refresh
        token was issued to, and the `sid` of its SSO session: one statement for all a token
        request reads."""
        params = {"account_id": account_id, "sso_session_id": sso_session_id, "now": self.now()}
        rows = self._session.connection().execute(TOKEN_OWNER, params).all()
        if not rows:
            return None
        values = rows[0]._mapping  # the account's columns repeat on each student's row
        person = _person_view(values)
        account = AccountView(
            **{name: values[f"account.{name}"] for name in _ACCOUNT_FIELDS},
            loaded_person=person,
            loaded_student_rows=read_visible_rows(rows),
        )
        return TokenOwner(account, values["last_activity_at"], values["sid"])

    def touch_activity(self, account_id: int, now: datetime) -> None:
        """Record account activity (a refresh) at `now`."""
        self._session.connection().execute(TOUCH_ACTIVITY, {"owner_id": account_id, "now": now})

    def revoke(self, row: OAuthToken) -> None:
        """Revoke one token row; revoking a refresh token ends its whole family."""
        if row.refresh_token_digest is not None:
            self.revoke_where(OAuthToken.family_id == row.family_id)
        else:
            self.revoke_where(OAuthToken.id == row.id)

    def revoke_where(self, condition: Any) -> int:
        """Revoke every live token matching a condition; return how many."""
        result = self._session.execute(
            update(OAuthToken)
            .where(condition, OAuthToken.revoked_at.is_(None))
            .values(revoked_at=self._clock.now())
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE

    def end_codes(self, account_ids: Sequence[int]) -> int:
        """Make every unredeemed code of these accounts unusable (end of access); how many.

        They expire now: redeeming one then fails like any expired code."""
        now = self._clock.now()
        result = self._session.execute(
            update(AuthorizationCode)
            .where(
                AuthorizationCode.account_id.in_(account_ids),
                AuthorizationCode.redeemed_at.is_(None),
                AuthorizationCode.expires_at > now,
            )
            .values(expires_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE

    def end_session_tokens(self, sso_session_id: int) -> None:
        """A sign-out: the session's tokens end, but for offline_access refresh tokens, which
        outlive the session by design (their access tokens still end now)."""
        now = self._clock.now()
        of_session = OAuthToken.sso_session_id == sso_session_id
        self.revoke_where(of_session & ~IS_OFFLINE)
        self._session.execute(
            update(OAuthToken)
            .where(
                of_session,
                IS_OFFLINE,
                OAuthToken.revoked_at.is_(None),
                OAuthToken.access_expires_at > now,
            )
            .values(access_expires_at=now)
            .execution_options(synchronize_session=False)
        )

    def now(self) -> datetime:
        """The store's clock time."""
        return self._clock.now()


def _person_view(values: Any) -> PersonView | None:
    """The `person.*` columns of a row as a PersonView (None when the account has no person)."""
    if values["person.id"] is None:
        return None
    return PersonView(**{name: values[f"person.{name}"] for name in _PERSON_FIELDS})
