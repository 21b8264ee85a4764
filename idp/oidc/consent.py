"""Consent: what an account allowed a third-party app to receive, per scope set."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.oidc.models import Consent, OAuthToken, OidcClient
from idp.oidc.tokens import TokenStore


def scope_set(scope: str) -> str:
    """A canonical form of a scope string: sorted, without duplicates."""
    return " ".join(sorted(set(scope.split())))


class ConsentService:
    """Remembers, checks and withdraws consents."""

    def __init__(self, session: Session, clock: Clock, audit: AuditLog, tokens: TokenStore) -> None:
        self._session = session
        self._clock = clock
        self._audit = audit
        self._tokens = tokens

    def has_consent(self, account_id: int, client_id: str, scope: str) -> bool:
        """True if this exact scope set (or a wider one) was allowed and not withdrawn."""
        wanted = set(scope.split())
        rows = self._session.execute(
            select(Consent.scope_set).where(
                Consent.account_id == account_id,
                Consent.client_id == client_id,
                Consent.revoked_at.is_(None),
            )
        ).scalars()
        return any(wanted <= set(granted.split()) for granted in rows)

    def grant(self, account_id: int, client_id: str, scope: str) -> None:
        """Record consent (again, if it had been withdrawn)."""
        key = scope_set(scope)
        row = self._session.execute(
            select(Consent).where(
                Consent.account_id == account_id,
                Consent.client_id == client_id,
                Consent.scope_set == key,
            )
        ).scalar_one_or_none()
        now = self._clock.now()
        if row is None:
            try:
                with self._session.begin_nested():
                    self._session.add(
                        Consent(
                            account_id=account_id,
                            client_id=client_id,
                            scope_set=key,
                            granted_at=now,
                        )
                    )
            except IntegrityError:
                return  # a parallel request recorded the same consent
        else:
            row.granted_at, row.revoked_at = now, None
        self._audit.record("oidc:consent:granted", subject_id=account_id, client_id=client_id)

    def connected_apps(self, account_id: int) -> list[tuple[str, str, str]]:
        """(client_id, client name, scope set) of every consent in force, by name."""
        rows = self._session.execute(
            select(Consent.client_id, OidcClient.name, Consent.scope_set)
            .join(OidcClient, OidcClient.client_id == Consent.client_id)
            .where(Consent.account_id == account_id, Consent.revoked_at.is_(None))
            .order_by(OidcClient.name, Consent.scope_set)
        )
        return [(row.client_id, row.name, row.scope_set) for row in rows]

    def withdraw(self, account_id: int, client_id: str) -> int:
        """Withdraw every consent of an account for a client; return how many."""
        rows = self._session.execute(
            select(Consent).where(
                Consent.account_id == account_id,
                Consent.client_id == client_id,
                Consent.revoked_at.is_(None),
            )
        ).scalars()
        count = 0
        for row in rows:
            row.revoked_at = self._clock.now()
            count += 1
        if count:
            # Withdrawn consent ends what the app holds, not only future requests.
            self._tokens.revoke_where(
                (OAuthToken.account_id == account_id) & (OAuthToken.client_id == client_id)
            )
            self._audit.record("oidc:consent:withdrawn", subject_id=account_id, client_id=client_id)
        return count
