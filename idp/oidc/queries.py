"""The OIDC hot paths' prebuilt statements, built once at import, and the SQL expressions of the
token rules they are built from (which refresh tokens a client may still use, which sessions
are live, what offline_access keeps).

Building a statement cost a fifth of a userinfo request (bench/oidc_bench.py, py-spy), so each
request runs one built here. Each statement's columns are the fields of the record its rows are
read into by name (idp/oidc/tokens.py; tests/unit/test_queries_room.py checks they agree)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, exists, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from idp.accounts.models import Account
from idp.oidc.models import (
    AuthorizationCode,
    ClientGeneration,
    OAuthToken,
    OidcClient,
    SsoSession,
    SsoSessionClient,
)
from idp.roster.access import with_visible_students
from idp.roster.models import Person
from idp.sqltypes import UtcDateTime

_NOW: Any = bindparam("now", type_=UtcDateTime())

# The account and person columns a token's owner is read with (tokens.AccountView, PersonView).
ACCOUNT_COLUMNS = (
    Account.id,
    Account.sub,
    Account.kind,
    Account.state,
    Account.username,
    Account.email,
    Account.email_verified_at,
    Account.person_id,
    Account.locale,
    Account.communication_channel,
    Account.communication_topics,
)
PERSON_COLUMNS = (
    Person.id,
    Person.role,
    Person.is_active,
    Person.sis_person_id,
    Person.given_name,
    Person.family_name,
    Person.birth_date,
)
# What a rotated refresh token hands on (tokens.ClaimedRefresh).
CLAIMED_COLUMNS = (
    OAuthToken.client_id,
    OAuthToken.account_id,
    OAuthToken.scope,
    OAuthToken.authorization_code_id,
    OAuthToken.sso_session_id,
    OAuthToken.auth_time,
    OAuthToken.amr,
    OAuthToken.acr,
    OAuthToken.family_id,
    OAuthToken.family_expires_at,
)
# What a redeemed code hands on (tokens.RedeemedCode, but its `sid`, set by the code grant).
REDEEMED_COLUMNS = (
    AuthorizationCode.id,
    AuthorizationCode.client_id,
    AuthorizationCode.account_id,
    AuthorizationCode.sso_session_id,
    AuthorizationCode.redirect_uri,
    AuthorizationCode.scope,
    AuthorizationCode.nonce,
    AuthorizationCode.code_challenge,
    AuthorizationCode.code_challenge_method,
    AuthorizationCode.claims_request,
    AuthorizationCode.auth_time,
    AuthorizationCode.acr,
    AuthorizationCode.amr,
)

# The token was granted offline_access (scope is a space-separated list of scopes).
IS_OFFLINE = (literal(" ") + OAuthToken.scope + literal(" ")).contains(" offline_access ")


def _session_is_live(session_id: Any, now: Any) -> Any:
    """The SSO session a code or token was issued in has not ended (sign-out, end of access)
    nor passed its absolute lifetime; true when there is none (client_credentials)."""
    live = exists().where(
        SsoSession.id == session_id, SsoSession.ended_at.is_(None), SsoSession.expires_at > now
    )
    return or_(session_id.is_(None), live)


def live_refresh(refresh_digest: Any, client_id: Any, now: Any) -> tuple[Any, ...]:
    """Conditions of a refresh token this client may still use: unrotated, unrevoked, unexpired
    and, unless it was granted offline_access, of an SSO session still live (values, or bound
    parameters for a statement built once)."""
    return (
        OAuthToken.refresh_token_digest == refresh_digest,
        OAuthToken.client_id == client_id,
        OAuthToken.rotated_at.is_(None),
        OAuthToken.revoked_at.is_(None),
        OAuthToken.refresh_idle_expires_at > now,
        OAuthToken.family_expires_at > now,
        or_(IS_OFFLINE, _session_is_live(OAuthToken.sso_session_id, now)),
    )


def _owner_columns() -> list[Any]:
    """The account and person columns, labelled `account.*` and `person.*`, for statements
    that load them with a token."""
    return [
        *(column.label(f"account.{column.key}") for column in ACCOUNT_COLUMNS),
        *(column.label(f"person.{column.key}") for column in PERSON_COLUMNS),
    ]


def _find_access_query() -> Any:
    """A live access token with its account, person and the rows of its `students` claim
    (one row per visible student and school, or one row): userinfo reads the database once."""
    query = (
        select(OAuthToken.client_id, OAuthToken.scope, *_owner_columns())
        .outerjoin(Account, Account.id == OAuthToken.account_id)
        .outerjoin(Person, Person.id == Account.person_id)
        .where(
            OAuthToken.access_token_digest == bindparam("digest"),
            OAuthToken.revoked_at.is_(None),
            OAuthToken.access_expires_at > bindparam("now", type_=UtcDateTime()),
        )
    )
    return with_visible_students(query, Person.id)


def _introspection_query() -> Any:
    """The token holding a value (access or refresh) with its account's `account_sub` and
    `account_state` and whether its client is enabled, as one plain row."""
    value_digest: Any = bindparam("digest")
    return (
        select(
            OAuthToken.client_id,
            OAuthToken.scope,
            OAuthToken.issued_at,
            OAuthToken.access_expires_at,
            OAuthToken.refresh_idle_expires_at,
            OAuthToken.family_expires_at,
            OAuthToken.revoked_at,
            OAuthToken.rotated_at,
            OAuthToken.refresh_token_digest,
            OAuthToken.account_id,
            Account.sub.label("account_sub"),
            Account.state.label("account_state"),
            OidcClient.is_enabled.label("client_is_enabled"),
        )
        .outerjoin(Account, Account.id == OAuthToken.account_id)
        .outerjoin(OidcClient, OidcClient.client_id == OAuthToken.client_id)
        .where(
            or_(
                OAuthToken.access_token_digest == value_digest,
                OAuthToken.refresh_token_digest == value_digest,
            )
        )
    )


# Every userinfo request (and bearer check): TokenStore.find_access.
FIND_ACCESS = _find_access_query()
# Every introspection request: TokenStore.find_for_introspection.
INTROSPECT = _introspection_query()
# Every code exchange: redeem a live code by marking it used (one winner).
REDEEM_CODE = (
    update(AuthorizationCode)
    .where(
        AuthorizationCode.code_digest == bindparam("digest"),
        AuthorizationCode.client_id == bindparam("code_client_id"),
        AuthorizationCode.redeemed_at.is_(None),
        AuthorizationCode.expires_at > _NOW,
        # A code outlives neither its sign-in (sign-out, end of access) nor `end_codes`.
        _session_is_live(AuthorizationCode.sso_session_id, _NOW),
    )
    .values(redeemed_at=_NOW)
    .returning(*REDEEMED_COLUMNS)
)
# Every token request inserts one token row: TokenStore.save.
INSERT_TOKEN = insert(OAuthToken)
# Every authorization that issues a code: TokenStore.save_code.
INSERT_CODE = insert(AuthorizationCode)
# Every token request: the owner of a code or token, with the rows of its `students` claim (as
# FIND_ACCESS), so the ID token's claims need no statement of their own.
TOKEN_OWNER = with_visible_students(
    select(*_owner_columns(), Account.last_activity_at, SsoSession.sid)
    .outerjoin(Person, Person.id == Account.person_id)
    .outerjoin(
        SsoSession,
        # The sid only of a live session: an offline_access refresh after a sign-out gets an
        # ID token without the ended session's sid.
        (SsoSession.id == bindparam("sso_session_id"))
        & SsoSession.ended_at.is_(None)
        & (SsoSession.expires_at > _NOW),
    )
    .where(Account.id == bindparam("account_id")),
    Person.id,
)
# Every sign-in starts an SSO session: SsoSessionService.start.
START_SESSION = (
    insert(SsoSession)
    .values(
        sid=bindparam("new_sid"),
        account_id=bindparam("owner_id"),
        auth_time=_NOW,
        amr=bindparam("methods", type_=SsoSession.__table__.c.amr.type),
        acr=bindparam("context_class"),
        last_seen_at=_NOW,
        expires_at=bindparam("until", type_=UtcDateTime()),
    )
    .returning(SsoSession.id)
)
# Every authorization request records its client, per dialect (INSERT ... ON CONFLICT DO
# NOTHING): SsoSessionService.record_client.
RECORD_CLIENT = {
    "postgresql": postgresql_insert(SsoSessionClient).on_conflict_do_nothing(
        index_elements=["sso_session_id", "client_id"]
    ),
    "sqlite": sqlite_insert(SsoSessionClient).on_conflict_do_nothing(
        index_elements=["sso_session_id", "client_id"]
    ),
}

# Every refresh claims a live refresh token by marking it rotated (TokenStore.claim_refresh).
CLAIM_REFRESH = (
    update(OAuthToken)
    .where(*live_refresh(bindparam("digest"), bindparam("token_client_id"), _NOW))
    .values(rotated_at=_NOW)
    .returning(*CLAIMED_COLUMNS)
)
# Each process reads it once per request that uses clients (oidc/server.py, client_generation).
CLIENT_GENERATION = select(ClientGeneration.generation).where(ClientGeneration.id == 1)
