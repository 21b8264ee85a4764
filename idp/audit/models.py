"""The append-only security and disclosure event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.sqltypes import BigId, JsonDocument, UtcDateTime


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    """One event; database triggers refuse UPDATE and DELETE (see the first migration)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    event: Mapped[str] = mapped_column(String(100), index=True)
    actor_account_id: Mapped[int | None] = mapped_column(index=True)
    subject_account_id: Mapped[int | None] = mapped_column(index=True)
    request_id: Mapped[str | None] = mapped_column(String(64))
    # Codes and ids only: never message text, answers, passwords or tokens.
    data: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)


# The record of disclosures (idp/oidc/disclosures.py): one event per token or userinfo answer
# that carried students, its `data` holding the student ids the answer sent. "Which apps
# received data about this student" reads them through a GIN index over these events only
# (PostgreSQL; SQLite reads them with json_each, unindexed). The event name and the key are
# SQL literals, not parameters, so that every plan of the query can use the partial index.
DISCLOSURE_EVENT = "oidc:students:disclosed"
IS_DISCLOSURE = AuditEvent.__table__.c.event == literal_column(f"'{DISCLOSURE_EVENT}'")
DISCLOSED_STUDENT_IDS = AuditEvent.__table__.c.data.op("->")(literal_column("'student_ids'"))
Index(
    "ix_audit_event_disclosed_student_ids",
    DISCLOSED_STUDENT_IDS.label("disclosed_student_ids"),
    postgresql_using="gin",
    postgresql_ops={"disclosed_student_ids": "jsonb_path_ops"},
    postgresql_where=IS_DISCLOSURE,
).ddl_if(dialect="postgresql")
