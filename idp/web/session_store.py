"""Server-side sessions in the database.

Written by hand on purpose: Flask-Session (the usual library) stores the session id in
clear in its table and creates its table outside our migrations. Here the cookie carries
a random 256-bit id and the table keeps only its SHA-256 digest, so a database reader
cannot hijack a session. Data is JSON (Flask's tagged serializer), never pickle.

A visitor who is not signed in and holds nothing but a form's CSRF token and a language
(every sign-in, registration or recovery page shown to anyone) gets no row: that session
lives in the cookie itself, signed with itsdangerous and timed by the injected clock, so
anonymous page views (or a crawler, or a flood) never write to the database. The first
other key (a sign-in, a registration step) moves it to a row under a new random id.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, insert, select, update
from werkzeug.datastructures import CallbackDict

from idp.clock import Clock
from idp.extensions import db
from idp.sqltypes import UtcDateTime
from idp.web.session_models import BrowserSession

_SERIALIZER = TaggedJSONSerializer()
# What a session may hold and still live in its cookie instead of a row: the CSRF token of
# Flask-WTF (WTF_CSRF_FIELD_NAME) and the chosen language. Nothing that grants anything.
_COOKIE_KEYS = frozenset({"csrf_token", "lang"})
# Marks a cookie-held session; a row's id (URL-safe base64) never contains a dot.
_COOKIE_MARK = "."
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

        class ClockSigner(TimestampSigner):
            """Timestamps from the application's clock, so tests can move time."""

            def get_timestamp(self) -> int:
                return int(clock.now().timestamp())

        self._signer_class = ClockSigner

    def _cookie_serializer(self, app: Flask) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            app.secret_key or "",
            salt="idp.session.cookie",
            serializer=_SERIALIZER,
            signer=self._signer_class,
            signer_kwargs={"digest_method": hashlib.sha256},
        )

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        """Load the session named by the cookie, if it exists and has not expired."""
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid and sid.startswith(_COOKIE_MARK) and len(sid) <= 1024:
            return self._open_cookie(app, sid[len(_COOKIE_MARK) :])
        if not sid or len(sid) > 128:
            return ServerSession()
        row = db.session.connection().execute(_LOAD, {"digest": _digest(sid)}).first()
        now = self._clock.now()
        if row is None or row.expires_at <= now or row.last_seen_at + self._idle <= now:
            return ServerSession()
        session = ServerSession(_SERIALIZER.loads(row.data), sid=sid)
        session.last_seen_at = row.last_seen_at
        return session

    def _open_cookie(self, app: Flask, value: str) -> ServerSession:
        """A cookie-held session: signed by us, not older than the idle timeout, and holding
        nothing but the keys allowed there (anything else is refused, signed or not)."""
        try:
            data, signed_at = self._cookie_serializer(app).loads(
                value, max_age=int(self._idle.total_seconds()), return_timestamp=True
            )
        except BadSignature:  # forged, or expired (SignatureExpired is a BadSignature)
            return ServerSession()
        if not isinstance(data, dict) or not data.keys() <= _COOKIE_KEYS:
            return ServerSession()
        session = ServerSession(data)
        session.last_seen_at = signed_at
        return session

    def save_session(  # type: ignore[override]  # narrows SessionMixin to ServerSession
        self, app: Flask, session: ServerSession, response: Response
    ) -> None:
        """Persist changes, rotate ids, or delete an emptied session and its cookie; the
        request's unit of work commits them next (idp/web/transaction.py)."""
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if not session:
            for sid in (session.rotate_from, session.sid):
                if sid:
                    self._delete(sid)
            if session.sid or session.modified:
                response.delete_cookie(name, domain=domain, path=path)
            return
        now = self._clock.now()
        if session.sid is None and session.rotate_from is None and session.keys() <= _COOKIE_KEYS:
            # Signed again when it changed or, like a row's idle timer, once a minute at most.
            if session.modified or not self._is_fresh(session, now):
                value = _COOKIE_MARK + self._cookie_serializer(app).dumps(dict(session))
                self._set_cookie(app, response, value)
            return
        if not session.modified and self._is_fresh(session, now):
            return  # nothing changed and the idle timer was refreshed recently: no write
        if session.sid is None:
            session.sid = secrets.token_urlsafe(32)
            self._create(session, now)
        else:
            self._update(session, now)
        self._set_cookie(app, response, session.sid)

    def _set_cookie(self, app: Flask, response: Response, value: str) -> None:
        response.set_cookie(
            self.get_cookie_name(app),
            value,
            httponly=True,
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
        )

    def _is_fresh(self, session: ServerSession, now: datetime) -> bool:
        seen = session.last_seen_at
        return seen is not None and now - seen < _TOUCH_INTERVAL

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
# A new session's columns: a new row, or an old row taking the new id (rotation).
_NEW_SESSION: dict[str, Any] = {
    "id_digest": bindparam("digest"),
    "data": bindparam("session_data"),
    "account_id": bindparam("session_account_id"),
    "created_at": _NOW,
    "last_seen_at": _NOW,
    "expires_at": bindparam("session_expires_at", type_=UtcDateTime()),
}
_INSERT = insert(BrowserSession).values(_NEW_SESSION)
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
    .values(_NEW_SESSION)
)
_DELETE = delete(BrowserSession).where(BrowserSession.id_digest == bindparam("digest"))
