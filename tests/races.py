"""Helpers of the PostgreSQL race tests: wait, without fixed sleeps, until connections block."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import text

from idp.extensions import db


def wait_until(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Poll a database condition (each poll is a round trip, so no fixed sleeps)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
    raise AssertionError("condition never became true")


def waiting_on_locks() -> int:
    """How many sessions of this test's database wait for a lock."""
    with db.engine.connect() as connection:
        query = text(
            "SELECT count(DISTINCT l.pid) FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE NOT l.granted AND a.datname = current_database()"
        )
        return int(connection.execute(query).scalar_one())
