"""Ending access: one path for sign-out, cancellation, restriction, password reset...

DESIGN.md 7: `end_access` revokes the account's tokens, ends its SSO sessions, enqueues a
back-channel logout token (through the outbox) for every app the sessions touched, and
writes one audit event. `end_access_many` is the same code for many accounts at once (the
inactivity sweep, the deletion purge), in set-based statements. Capabilities call these;
none touches token or SSO-session rows itself (tests/unit/test_one_path_ends_access.py).
"""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, NamedTuple
from urllib.parse import urlencode

from joserfc import jwt
from sqlalchemy import select

from idp.accounts.models import Account
from idp.audit.service import AuditLog
from idp.batches import chunks
from idp.notifications.models import OutboxMessage
from idp.notifications.outbox import Delivery, DeliveryError, NewMessage, Outbox
from idp.oidc.grants import OidcDeps
from idp.oidc.models import OAuthToken, OidcClient, SsoSession
from idp.oidc.sessions import SsoSessionService

BACKCHANNEL_TEMPLATE = "backchannel_logout"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
BACKCHANNEL_TIMEOUT_SECONDS = 5


def initiating_client(
    client: OidcClient | None, id_token_claims: Mapping[str, Any] | None, sso: SsoSession
) -> str | None:
    """The app that asked for this RP-initiated logout, if it proved it: the client of an
    `id_token_hint` issued in this very session (same `sid`). That app has ended its own
    session already, so it gets no back-channel logout token for it (issue 21). Without such
    a hint (a bare `client_id`, which anyone can write, or another session's ID token) nothing
    shows the app asked, and every app is told, as the confirmation page promises."""
    if client is None or id_token_claims is None or id_token_claims.get("sid") != sso.sid:
        return None
    return str(client.client_id)


class _Notice(NamedTuple):
    """An app to tell that an account's session `sid` ended."""

    account_id: int
    client_id: str
    sid: str


class LogoutService:
    """Ends SSO sessions and tells the apps they served (OIDC Back-Channel Logout 1.0)."""

    def __init__(
        self, deps: OidcDeps, sso: SsoSessionService, outbox: Outbox, audit: AuditLog
    ) -> None:
        self._deps = deps
        self._sso = sso
        self._outbox = outbox
        self._audit = audit

    def end_session(self, sso: SsoSession, initiator: str | None = None) -> list[str]:
        """Sign one browser session out everywhere it signed in; return the client ids.

        Its codes and tokens end with it: access tokens at once, refresh tokens unless they
        were granted offline_access (README "Signing out"). Every app it signed in to gets a
        back-channel logout token but the `initiator` (see `initiating_client`)."""
        self._sso.end(sso)
        self._deps.tokens.end_session_tokens(sso.id)
        clients = self._sso.clients_of(sso)
        self._notify(
            [
                _Notice(sso.account_id, client_id, sso.sid)
                for client_id in clients
                if client_id != initiator
            ]
        )
        self._audit.record("oidc:session:ended", subject_id=sso.account_id, clients=len(clients))
        return clients

    def end_access(
        self,
        account: Account,
        reason: str,
        student_id: int | None = None,
        keep_sid: str | None = None,
    ) -> None:
        """Revoke every token and SSO session of an account and notify the apps. `keep_sid`
        keeps the browser session that made the change signed in (its apps sign in again
        silently, since their tokens are revoked too)."""
        self._end_access([account.id], reason, student_id, keep_sid)

    def end_access_many(self, account_ids: Sequence[int], reason: str) -> None:
        """`end_access` for many accounts (the inactivity sweep, the deletion purge): the same
        statements over chunked IN lists, one audit event per account."""
        for chunk in chunks(account_ids):
            self._end_access(chunk, reason, None, None)

    def _end_access(
        self, account_ids: list[int], reason: str, student_id: int | None, keep_sid: str | None
    ) -> None:
        """The one definition of ending access, for at most CHUNK accounts."""
        self._deps.tokens.revoke_where(OAuthToken.account_id.in_(account_ids))
        self._deps.tokens.end_codes(account_ids)  # a code fetched before must not work after
        ended = self._sso.end_all(account_ids, keep_sid)
        clients_of = self._sso.clients_of_sessions([sso.id for sso in ended])
        notices = {
            _Notice(sso.account_id, client_id, sso.sid)
            for sso in ended
            for client_id in clients_of.get(sso.id, [])
        }
        self._notify(sorted(notices))
        clients: dict[int, set[str]] = {account_id: set() for account_id in account_ids}
        for notice in notices:
            clients[notice.account_id].add(notice.client_id)
        self._record_ended(clients, reason, student_id)

    def _record_ended(
        self, clients: dict[int, set[str]], reason: str, student_id: int | None
    ) -> None:
        """One `oidc:access:ended` event per account, with how many apps its sessions had
        signed in to: one INSERT ... SELECT per such number."""
        by_count: dict[int, list[int]] = {}
        for account_id, touched in clients.items():
            by_count.setdefault(len(touched), []).append(account_id)
        for count, ids in sorted(by_count.items()):
            self._audit.record_for_each(
                "oidc:access:ended",
                select(Account.id).where(Account.id.in_(ids)),
                reason=reason,
                student_id=student_id,
                clients=count,
            )

    def _notify(self, notices: Sequence[_Notice]) -> None:
        """Queue a back-channel logout token (through the outbox, in one statement) for each
        notice whose app registered a backchannel_logout_uri (Back-Channel Logout 2.7)."""
        uris = self._backchannel_uris(sorted({notice.client_id for notice in notices}))
        told = [notice for notice in notices if notice.client_id in uris]
        subs = self._subs(sorted({notice.account_id for notice in told}))
        messages = [
            NewMessage(
                uris[notice.client_id],
                {"client_id": notice.client_id, "sub": subs[notice.account_id], "sid": notice.sid},
                account_id=notice.account_id,
            )
            for notice in told
            if notice.account_id in subs
        ]
        self._outbox.enqueue_many(BACKCHANNEL_TEMPLATE, messages)

    def _backchannel_uris(self, client_ids: list[str]) -> dict[str, str]:
        """client_id -> backchannel_logout_uri of those of these clients that have one."""
        if not client_ids:
            return {}
        rows = self._deps.session.execute(
            select(OidcClient.client_id, OidcClient.backchannel_logout_uri).where(
                OidcClient.client_id.in_(client_ids)
            )
        )
        return {
            row.client_id: row.backchannel_logout_uri for row in rows if row.backchannel_logout_uri
        }

    def _subs(self, account_ids: list[int]) -> dict[int, str]:
        """account id -> `sub` (a logout token names the account by its `sub`)."""
        if not account_ids:
            return {}
        rows = self._deps.session.execute(
            select(Account.id, Account.sub).where(Account.id.in_(account_ids))
        )
        return {row.id: row.sub for row in rows}

    def _client(self, client_id: str) -> OidcClient | None:
        query = select(OidcClient).where(OidcClient.client_id == client_id)
        return self._deps.session.execute(query).scalar_one_or_none()

    def logout_token(self, client_id: str, sub: str, sid: str | None) -> str:
        """A signed logout token (Back-Channel Logout 2.4): no nonce, events, jti, sid/sub."""
        now = int(self._deps.clock.now().timestamp())
        claims: dict[str, Any] = {
            "iss": self._deps.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_urlsafe(16),
            "sub": sub,
            "events": {BACKCHANNEL_EVENT: {}},
        }
        if sid:
            claims["sid"] = sid
        # Signed like the client's ID tokens: an app that pins ES256 refuses an RS256 logout
        # token, and its session would outlive a restriction (issue 21).
        client = self._client(client_id)
        registered = client.id_token_signed_response_alg if client is not None else None
        alg = registered or self._deps.policy.signing.default_alg
        key = self._deps.keys.signing_key(alg)
        header = {"alg": alg, "kid": self._deps.keys.active_kid(alg), "typ": "logout+jwt"}
        return jwt.encode(header, claims, key, algorithms=[alg])

    def prepare_backchannel(self, message: OutboxMessage) -> Delivery:
        """Outbox sender: sign the logout token now (it reads the client and the key); the
        returned Delivery only POSTs it, so no transaction waits on the app's answer."""
        context = message.context
        token = self.logout_token(context["client_id"], context["sub"], context.get("sid"))
        body = urlencode({"logout_token": token}).encode()
        request = urllib.request.Request(  # noqa: S310 - registered https/loopback URI only
            message.recipient,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        return partial(post_logout_token, request)


def post_logout_token(request: urllib.request.Request) -> None:
    """POST a prepared logout token; any answer but 2xx is a retryable failure."""
    try:
        with urllib.request.urlopen(  # noqa: S310 - see prepare_backchannel
            request, timeout=BACKCHANNEL_TIMEOUT_SECONDS
        ) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"http_{error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError):
        raise DeliveryError("unreachable") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"http_{status}")
