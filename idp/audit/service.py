"""Write audit events: codes and ids only."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Select, insert, literal
from sqlalchemy.orm import Session

from idp.audit.models import AuditEvent
from idp.audit.queries import INSERT_EVENT
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
        _check(event, data)
        values = {
            "at": self._clock.now(),
            "name": event,
            "actor": actor_id,
            "subject": subject_id,
            "request": self._request_id(),
            "payload": data,
        }
        self._session.connection().execute(INSERT_EVENT, values)

    def record_for_each(
        self,
        event: str,
        subjects: Select[int],
        *,
        actor_id: int | None = None,
        **data: Any,
    ) -> None:
        """Add the same event for each account id `subjects` selects, in one INSERT ... SELECT
        (jobs that act on many accounts at once)."""
        _check(event, data)
        columns = AuditEvent.__table__.c
        source = subjects.add_columns(
            literal(self._clock.now(), UtcDateTime()),
            literal(event, columns.event.type),
            literal(actor_id, columns.actor_account_id.type),
            literal(self._request_id(), columns.request_id.type),
            literal(data, columns.data.type),
        )
        names = ["subject_account_id", "occurred_at", "event", "actor_account_id", "request_id"]
        self._session.execute(insert(AuditEvent).from_select([*names, "data"], source))


def _check(event: str, data: Mapping[str, Any]) -> None:
    """Refuse a badly named event or data under a key that could carry a secret."""
    if not _EVENT_NAME.fullmatch(event):
        raise ValueError(f"audit event name {event!r} is not capability:subject:action")
    leaked = _FORBIDDEN_KEYS.intersection(data)
    if leaked:
        raise ValueError(f"audit data may not carry {sorted(leaked)}")
