"""The lifecycle's own state: when the daily sweep last ran."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.sqltypes import UtcDateTime


class SweepRun(db.Model):  # type: ignore[name-defined,misc]
    """One row: when the daily inactivity sweep last ran (the worker's or a manual one).

    `idp worker` claims the day's run by moving `last_ran_at` with one guarded statement
    (LifecycleService.sweep_if_due), so of several workers exactly one sweeps. The row appears
    with the first run (migration 0011 starts it from the audit log)."""

    __tablename__ = "lifecycle_sweep_run"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_ran_at: Mapped[datetime] = mapped_column(UtcDateTime)
