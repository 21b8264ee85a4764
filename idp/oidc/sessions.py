"""SSO sessions: one sign-in serves every app until its idle or absolute timeout."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.models import Account
from idp.batches import chunks
from idp.clock import Clock
from idp.credentials.questions import WITH_HAS_SECURITY_ANSWERS
from idp.oidc.models import SsoSession, SsoSessionClient
from idp.oidc.queries import RECORD_CLIENT, START_SESSION
from idp.policy import SessionPolicy

# The idle timer is refreshed at most this often (one write per minute, not per request).
_TOUCH_INTERVAL = timedelta(minutes=1)


class StartedSession(NamedTuple):
    """An SSO session just started: what the authorization that follows the sign-in needs."""

    id: int
    sid: str
    auth_time: datetime
    amr: tuple[str, ...]
    acr: str | None


class EndedSession(NamedTuple):
    """An SSO session `end_all` just ended."""

    id: int
    account_id: int
    sid: str


class LiveSession(NamedTuple):
    """A live SSO session of this browser and its account (with `has_security_answers`)."""

    sso: SsoSession
    account: Account


class SsoSessionService:
    """Starts, finds, touches and ends SSO sessions; records the clients each one served."""

    def __init__(self, session: Session, clock: Clock, policy: SessionPolicy) -> None:
        self._session = session
        self._clock = clock
        self._policy = policy

    def start(self, account_id: int, amr: list[str], acr: str | None = None) -> StartedSession:
        """A new SSO session for a sign-in that just happened (auth_time = now)."""
        now = self._clock.now()
        sid = secrets.token_urlsafe(32)
        values = {
            "new_sid": sid,
            "owner_id": account_id,
            "now": now,
            "methods": amr,
            "context_class": acr,
            "until": now + timedelta(hours=self._policy.absolute_hours),
        }
        row_id = self._session.connection().execute(START_SESSION, values).scalar_one()
        return StartedSession(id=row_id, sid=sid, auth_time=now, amr=tuple(amr), acr=acr)

    def find_live_with_account(self, sid: str) -> LiveSession | None:
        """The session with this sid, its account and whether the account has chosen security
        questions (every page asks), in one query, if the session has not ended, expired or
        idled out; its idle timer is touched."""
        found = self._session.execute(
            select(SsoSession, Account)
            .join(Account, Account.id == SsoSession.account_id)
            .where(SsoSession.sid == sid)
            .options(WITH_HAS_SECURITY_ANSWERS)
        ).first()
        if found is None or self._check_live(found.SsoSession) is None:
            return None
        return LiveSession(sso=found.SsoSession, account=found.Account)

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
        statement = RECORD_CLIENT["postgresql" if dialect == "postgresql" else "sqlite"]
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

    def end_all(
        self, account_ids: Sequence[int], keep_sid: str | None = None
    ) -> list[EndedSession]:
        """End every live session of these accounts but `keep_sid`, in one statement; return
        the sessions ended (for back-channel logout)."""
        now = self._clock.now()
        live = [
            SsoSession.account_id.in_(account_ids),
            SsoSession.ended_at.is_(None),
            SsoSession.expires_at > now,
        ]
        if keep_sid is not None:
            live.append(SsoSession.sid != keep_sid)
        rows = self._session.execute(
            update(SsoSession)
            .where(*live)
            .values(ended_at=now)
            .returning(SsoSession.id, SsoSession.account_id, SsoSession.sid)
            .execution_options(synchronize_session="fetch")
        )
        return [EndedSession(row.id, row.account_id, row.sid) for row in rows]

    def clients_of_sessions(self, sso_session_ids: Sequence[int]) -> dict[int, list[str]]:
        """The client ids each of these sessions signed in to, in order (chunked IN lists)."""
        clients: dict[int, list[str]] = {}
        for chunk in chunks(sso_session_ids):
            rows = self._session.execute(
                select(SsoSessionClient.sso_session_id, SsoSessionClient.client_id)
                .where(SsoSessionClient.sso_session_id.in_(chunk))
                .order_by(SsoSessionClient.id)
            )
            for row in rows:
                clients.setdefault(row.sso_session_id, []).append(row.client_id)
        return clients
