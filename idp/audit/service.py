"""Write audit events: codes and ids only."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from idp.audit.models import AuditEvent
from idp.clock import Clock

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
    ) -> AuditEvent:
        """Add one `capability:subject:action` event to the current transaction."""
        if not _EVENT_NAME.fullmatch(event):
            raise ValueError(f"audit event name {event!r} is not capability:subject:action")
        leaked = _FORBIDDEN_KEYS.intersection(data)
        if leaked:
            raise ValueError(f"audit data may not carry {sorted(leaked)}")
        row = AuditEvent(
            occurred_at=self._clock.now(),
            event=event,
            actor_account_id=actor_id,
            subject_account_id=subject_id,
            request_id=self._request_id(),
            data=data,
        )
        self._session.add(row)
        return row
