"""Server-side sessions in the database.

Written by hand on purpose: Flask-Session (the usual library) stores the session id in
clear in its table and creates its table outside our migrations. Here the cookie carries
a random 256-bit id and the table keeps only its SHA-256 digest, so a database reader
cannot hijack a session. Data is JSON (Flask's tagged serializer), never pickle.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import bindparam, delete, insert, select, update
from werkzeug.datastructures import CallbackDict

from idp.clock import Clock
from idp.extensions import db
from idp.sqltypes import UtcDateTime
from idp.web.session_models import BrowserSession

_SERIALIZER = TaggedJSONSerializer()
# The idle timer is refreshed at most this often when nothing else changed.
_TOUCH_INTERVAL = timedelta(minutes=1)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """Session data plus its random id; `rotate()` issues a new id (no fixation)."""

    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None) -> None:
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.modified = False
        self.rotate_from: str | None = None
        self.last_seen_at: datetime | None = None

    def rotate(self) -> None:
        """Give this session a new id at the next save; the old id stops working."""
        if self.sid is not None and self.rotate_from is None:
            self.rotate_from = self.sid
        self.sid = None
        self.modified = True


class DatabaseSessionInterface(SessionInterface):
    """Loads and saves ServerSession rows; the cookie holds only the random id."""

    def __init__(self, clock: Clock, idle: timedelta, absolute: timedelta) -> None:
        self._clock = clock
        self._idle = idle
        self._absolute = absolute

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        """Load the session named by the cookie, if it exists and has not expired."""
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or len(sid) > 128:
            return ServerSession()
        row = db.session.connection().execute(_LOAD, {"digest": _digest(sid)}).first()
        now = self._clock.now()
        if row is None or row.expires_at <= now or row.last_seen_at + self._idle <= now:
            return ServerSession()
        session = ServerSession(_SERIALIZER.loads(row.data), sid=sid)
        session.last_seen_at = row.last_seen_at
        return session

    def save_session(  # type: ignore[override]  # narrows SessionMixin to ServerSession
        self, app: Flask, session: ServerSession, response: Response
    ) -> None:
        """Persist changes, rotate ids, or delete an emptied session and its cookie."""
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if not session:
            for sid in (session.rotate_from, session.sid):
                if sid:
                    self._delete(sid)
            if session.sid or session.modified:
                response.delete_cookie(name, domain=domain, path=path)
            if session.sid or session.rotate_from:
                db.session.commit()
            return
        now = self._clock.now()
        if not session.modified and self._is_fresh(session, now):
            return  # nothing changed and the idle timer was refreshed recently: no write
        if session.sid is None:
            session.sid = secrets.token_urlsafe(32)
            self._create(session, now)
        else:
            self._update(session, now)
        db.session.commit()
        response.set_cookie(
            name,
            session.sid,
            httponly=True,
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            domain=domain,
            path=path,
        )

    def _is_fresh(self, session: ServerSession, now: datetime) -> bool:
        seen = session.last_seen_at
        return session.sid is not None and seen is not None and now - seen < _TOUCH_INTERVAL

    @staticmethod
    def _values(session: ServerSession, now: datetime) -> dict[str, Any]:
        assert session.sid is not None  # noqa: S101 - set by the caller
        return {
            "digest": _digest(session.sid),
            "session_data": _SERIALIZER.dumps(dict(session)),
            "session_account_id": session.get("account_id"),
            "now": now,
        }

    def _create(self, session: ServerSession, now: datetime) -> None:
        """A new row; a rotated session (sign-in) takes over its old row under the new id,
        with a new absolute timeout: one UPDATE instead of a DELETE and an INSERT."""
        values = {**self._values(session, now), "session_expires_at": now + self._absolute}
        connection = db.session.connection()
        if session.rotate_from:
            replaced = {**values, "old_digest": _digest(session.rotate_from)}
            if connection.execute(_REPLACE, replaced).rowcount == 1:
                return
        connection.execute(_INSERT, values)

    def _update(self, session: ServerSession, now: datetime) -> None:
        # No row left means the session was ended while this request ran (sign-out in another
        # tab, access ended by staff): it stays ended, nothing is written back.
        db.session.connection().execute(_UPDATE, self._values(session, now))

    def _delete(self, sid: str) -> None:
        db.session.connection().execute(_DELETE, {"digest": _digest(sid)})


# Built once: sessions are written on most page requests.
_NOW: Any = bindparam("now", type_=UtcDateTime())
_INSERT = insert(BrowserSession).values(
    id_digest=bindparam("digest"),
    data=bindparam("session_data"),
    account_id=bindparam("session_account_id"),
    created_at=_NOW,
    last_seen_at=_NOW,
    expires_at=bindparam("session_expires_at", type_=UtcDateTime()),
)
_UPDATE = (
    update(BrowserSession)
    .where(BrowserSession.id_digest == bindparam("digest"))
    .values(
        data=bindparam("session_data"),
        account_id=bindparam("session_account_id"),
        last_seen_at=_NOW,
    )
)
_LOAD = select(BrowserSession.data, BrowserSession.last_seen_at, BrowserSession.expires_at).where(
    BrowserSession.id_digest == bindparam("digest")
)
_REPLACE = (
    update(BrowserSession)
    .where(BrowserSession.id_digest == bindparam("old_digest"))
    .values(
        id_digest=bindparam("digest"),
        data=bindparam("session_data"),
        account_id=bindparam("session_account_id"),
        created_at=_NOW,
        last_seen_at=_NOW,
        expires_at=bindparam("session_expires_at", type_=UtcDateTime()),
    )
)
_DELETE = delete(BrowserSession).where(BrowserSession.id_digest == bindparam("digest"))
