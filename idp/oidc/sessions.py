"""SSO sessions: one sign-in serves every app until its idle or absolute timeout."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from idp.accounts.models import Account
from idp.clock import Clock
from idp.oidc.models import SsoSession, SsoSessionClient
from idp.policy import SessionPolicy

# The idle timer is refreshed at most this often (one write per minute, not per request).
_TOUCH_INTERVAL = timedelta(minutes=1)


# Built once per dialect: every authorization request records its client.
_RECORD_CLIENT = {
    "postgresql": postgresql_insert(SsoSessionClient).on_conflict_do_nothing(
        index_elements=["sso_session_id", "client_id"]
    ),
    "sqlite": sqlite_insert(SsoSessionClient).on_conflict_do_nothing(
        index_elements=["sso_session_id", "client_id"]
    ),
}


class SsoSessionService:
    """Starts, finds, touches and ends SSO sessions; records the clients each one served."""

    def __init__(self, session: Session, clock: Clock, policy: SessionPolicy) -> None:
        self._session = session
        self._clock = clock
        self._policy = policy

    def start(self, account: Account, amr: list[str], acr: str | None = None) -> SsoSession:
        """A new SSO session for a sign-in that just happened (auth_time = now)."""
        now = self._clock.now()
        row = SsoSession(
            sid=secrets.token_urlsafe(32),
            account_id=account.id,
            auth_time=now,
            amr=amr,
            acr=acr,
            last_seen_at=now,
            expires_at=now + timedelta(hours=self._policy.absolute_hours),
        )
        self._session.add(row)
        self._session.flush()
        return row

    def find_live_with_account(self, sid: str) -> tuple[SsoSession, Account] | None:
        """The session with this sid and its account, in one query (every page request),
        if the session has not ended, expired or idled out; its idle timer is touched."""
        found = self._session.execute(
            select(SsoSession, Account)
            .join(Account, Account.id == SsoSession.account_id)
            .where(SsoSession.sid == sid)
        ).first()
        row = self._check_live(found[0] if found else None)
        return (row, found[1]) if row is not None and found is not None else None

    def _check_live(self, row: SsoSession | None) -> SsoSession | None:
        now = self._clock.now()
        if row is None or row.ended_at is not None or row.expires_at <= now:
            return None
        if row.last_seen_at + timedelta(minutes=self._policy.idle_minutes) <= now:
            return None
        if now - row.last_seen_at >= _TOUCH_INTERVAL:
            row.last_seen_at = now
        return row

    def record_client(self, sso: SsoSession, client_id: str) -> None:
        """Remember that this session signed in to a client (for back-channel logout).

        One INSERT ... ON CONFLICT DO NOTHING: idempotent, race-free, no savepoint."""
        dialect = self._session.get_bind().dialect.name
        statement = _RECORD_CLIENT["postgresql" if dialect == "postgresql" else "sqlite"]
        values = {"sso_session_id": sso.id, "client_id": client_id, "first_at": self._clock.now()}
        self._session.connection().execute(statement, values)

    def clients_of(self, sso: SsoSession) -> list[str]:
        """The client ids this session signed in to, in order."""
        rows = self._session.execute(
            select(SsoSessionClient.client_id)
            .where(SsoSessionClient.sso_session_id == sso.id)
            .order_by(SsoSessionClient.id)
        )
        return list(rows.scalars())

    def end(self, sso: SsoSession) -> None:
        """End one session (sign-out)."""
        if sso.ended_at is None:
            sso.ended_at = self._clock.now()

    def end_all(self, account_id: int, keep_sid: str | None = None) -> list[SsoSession]:
        """End every live session of an account but `keep_sid`; return them (back-channel)."""
        now = self._clock.now()
        rows = [
            row
            for row in self._session.execute(
                select(SsoSession).where(
                    SsoSession.account_id == account_id,
                    SsoSession.ended_at.is_(None),
                    SsoSession.expires_at > now,
                )
            ).scalars()
            if keep_sid is None or row.sid != keep_sid
        ]
        self._session.execute(
            update(SsoSession)
            .where(SsoSession.id.in_([row.id for row in rows]))
            .values(ended_at=now)
            .execution_options(synchronize_session="fetch")
        )
        return rows
