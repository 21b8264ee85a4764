"""The audit trail as the desk reads it (issue 16.6): the events of the staff member's schools,
filtered by person, event and dates, newest first, a page at a time, and as CSV rows.

"Of their schools": an event whose subject account is within the scope (idp/staff/scope.py),
or whose actor is. District admins read every event. The data column holds codes and ids only
(idp/audit/models.py), so a row is shown as it is stored; only the reason is pulled out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session, aliased

from idp.accounts.models import Account
from idp.audit.models import AuditEvent
from idp.staff.scope import StaffScope

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 100_000  # one CSV; a longer period is exported in parts
EVENT_MAX_LENGTH = 100


@dataclass(frozen=True)
class TrailFilter:
    """What the trail is narrowed to; every part optional."""

    account_id: int | None = None  # events about (subject) or by (actor) this account
    event: str | None = None  # an event name, or its start ("staff:" for all staff events)
    since: date | None = None  # from this day (UTC) on
    until: date | None = None  # up to and including this day (UTC)


@dataclass(frozen=True)
class TrailLine:
    """One event as the desk shows and exports it."""

    id: int
    occurred_at: datetime
    event: str
    actor_username: str | None
    subject_username: str | None
    subject_account_id: int | None
    data: dict[str, Any]

    @property
    def reason(self) -> str | None:
        """The staff member's reason, where the event has one."""
        reason = self.data.get("reason")
        return reason if isinstance(reason, str) else None


@dataclass(frozen=True)
class TrailPage:
    """One page of the trail, newest first."""

    lines: list[TrailLine]
    page: int
    has_next: bool


def trail_page(session: Session, scope: StaffScope, where: TrailFilter, page: int) -> TrailPage:
    """Page `page` (from 1) of the events of the scope that match `where`."""
    page = max(1, min(page, 10_000))
    query = _query(scope, where).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    lines = [_line(row) for row in session.execute(query)]
    return TrailPage(lines=lines[:PAGE_SIZE], page=page, has_next=len(lines) > PAGE_SIZE)


def trail_rows(session: Session, scope: StaffScope, where: TrailFilter) -> Iterator[TrailLine]:
    """Every matching event (at most EXPORT_MAX_ROWS), newest first, read in batches."""
    query = _query(scope, where).limit(EXPORT_MAX_ROWS).execution_options(yield_per=1000)
    for row in session.execute(query):
        yield _line(row)


def _query(scope: StaffScope, where: TrailFilter) -> Select[Any]:
    actor, subject = aliased(Account), aliased(Account)
    query = (
        select(
            AuditEvent.id,
            AuditEvent.occurred_at,
            AuditEvent.event,
            AuditEvent.subject_account_id,
            AuditEvent.data,
            actor.username.label("actor_username"),
            subject.username.label("subject_username"),
        )
        .outerjoin(actor, actor.id == AuditEvent.actor_account_id)
        .outerjoin(subject, subject.id == AuditEvent.subject_account_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )
    for condition in _conditions(scope, where):
        query = query.where(condition)
    return query


def _conditions(scope: StaffScope, where: TrailFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if not scope.is_district_wide:
        in_scope = select(Account.id).where(scope.accounts_condition())
        conditions.append(
            or_(
                AuditEvent.subject_account_id.in_(in_scope),
                AuditEvent.actor_account_id.in_(in_scope),
            )
        )
    if where.account_id is not None:
        conditions.append(
            or_(
                AuditEvent.subject_account_id == where.account_id,
                AuditEvent.actor_account_id == where.account_id,
            )
        )
    if where.event:
        name = where.event.strip()[:EVENT_MAX_LENGTH]
        if name.endswith(":"):
            escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(AuditEvent.event.like(escaped + "%", escape="\\"))
        else:
            conditions.append(AuditEvent.event == name)
    if where.since is not None:
        conditions.append(AuditEvent.occurred_at >= _start_of(where.since))
    if where.until is not None:
        conditions.append(AuditEvent.occurred_at < _start_of(where.until + timedelta(days=1)))
    return conditions


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _line(row: Any) -> TrailLine:
    return TrailLine(
        id=row.id,
        occurred_at=row.occurred_at,
        event=row.event,
        actor_username=row.actor_username,
        subject_username=row.subject_username,
        subject_account_id=row.subject_account_id,
        data=dict(row.data or {}),
    )
