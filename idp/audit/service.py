"""Write audit events: codes and ids only."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.orm import Session

from idp.audit.models import AuditEvent
from idp.clock import Clock
from idp.sqltypes import UtcDateTime

_EVENT_NAME = re.compile(r"[a-z_]+:[a-z_]+:[a-z_]+")
_FORBIDDEN_KEYS = frozenset({"password", "answer", "token", "guid", "key", "secret", "email"})


class AuditLog:
    """Appends events in the caller's transaction, so an event exists iff its change does."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        request_id: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._session = session
        self._clock = clock
        self._request_id = request_id

    def record(
        self,
        event: str,
        *,
        actor_id: int | None = None,
        subject_id: int | None = None,
        **data: Any,
    ) -> None:
        """Add one `capability:subject:action` event to the current transaction."""
        self.record_each(event, {subject_id: data}, actor_id=actor_id)

    def record_each(
        self,
        event: str,
        data_by_subject: Mapping[int | None, Mapping[str, Any]],
        *,
        actor_id: int | None = None,
    ) -> None:
        """Add one event per subject, with that subject's data, in one statement (jobs that
        act on many accounts at once)."""
        if not _EVENT_NAME.fullmatch(event):
            raise ValueError(f"audit event name {event!r} is not capability:subject:action")
        at, request_id = self._clock.now(), self._request_id()
        rows = []
        for subject_id, data in data_by_subject.items():
            leaked = _FORBIDDEN_KEYS.intersection(data)
            if leaked:
                raise ValueError(f"audit data may not carry {sorted(leaked)}")
            rows.append(
                {
                    "at": at,
                    "name": event,
                    "actor": actor_id,
                    "subject": subject_id,
                    "request": request_id,
                    "payload": dict(data),
                }
            )
        if rows:
            self._session.connection().execute(_INSERT, rows)


# Built once, a plain INSERT (no ORM unit of work): every sign-in and token family writes one.
_INSERT = insert(AuditEvent).values(
    occurred_at=bindparam("at", type_=UtcDateTime()),
    event=bindparam("name"),
    actor_account_id=bindparam("actor"),
    subject_account_id=bindparam("subject"),
    request_id=bindparam("request"),
    data=bindparam("payload", type_=AuditEvent.__table__.c.data.type),
)
