"""The append-only security and disclosure event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
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
