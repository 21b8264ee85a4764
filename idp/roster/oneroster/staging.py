"""Temporary staging tables, filled in chunks: COPY on PostgreSQL, executemany on SQLite.

Validated rows go to staging as they are read (bounded memory); the reference checks and the
upserts are then set-based SQL over staging and the real tables. Every staged row keeps its
line number, so a problem found in SQL is still reported as `file:line:column`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

# name -> (column, PostgreSQL type, SQLite type)
_TABLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "roster_org": (
        ("line", "integer", "INTEGER"),
        ("sourced_id", "text", "TEXT"),
        ("sis_id", "text", "TEXT"),
        ("name", "text", "TEXT"),
        ("is_deleted", "boolean", "BOOLEAN"),
    ),
    "roster_user": (
        ("line", "integer", "INTEGER"),
        ("sourced_id", "text", "TEXT"),
        ("sis_person_id", "text", "TEXT"),
        ("rank", "smallint", "INTEGER"),
        ("given_name", "text", "TEXT"),
        ("family_name", "text", "TEXT"),
        ("phone", "text", "TEXT"),
        ("grade", "text", "TEXT"),
        # agentSourcedIds as read (comma-separated); split in SQL, not row by row in Python.
        ("agents", "text", "TEXT"),
        ("is_enabled", "boolean", "BOOLEAN"),
        ("is_deleted", "boolean", "BOOLEAN"),
    ),
    "roster_role": (
        ("line", "integer", "INTEGER"),
        ("user_sid", "text", "TEXT"),
        ("rank", "smallint", "INTEGER"),
        ("is_deleted", "boolean", "BOOLEAN"),
    ),
    "roster_enrol": (
        ("line", "integer", "INTEGER"),
        ("source", "smallint", "INTEGER"),
        ("user_sid", "text", "TEXT"),
        ("school_sid", "text", "TEXT"),
        ("is_deleted", "boolean", "BOOLEAN"),
    ),
    "roster_demo": (
        ("line", "integer", "INTEGER"),
        ("sourced_id", "text", "TEXT"),
        ("birth_date", "date", "TEXT"),
    ),
}
# Tables the applying step derives from staging; dropped with the staging tables.
DERIVED_TABLES = (
    "roster_link",
    "roster_map",
    "roster_rel",
    "roster_enrolment",
    "roster_gone",
    "roster_school",
    "roster_was_active",
)

# Where an enrolment came from (roster_enrol.source).
FROM_ENROLLMENTS, FROM_USERS, FROM_ROLES = 1, 2, 3

CHUNK_ROWS = 20_000


class Stager:
    """Buffers staged rows per table and writes them in chunks on the import's connection."""

    def __init__(self, connection: Connection, chunk_rows: int = CHUNK_ROWS) -> None:
        self._connection = connection
        self._is_postgresql = connection.dialect.name == "postgresql"
        self._chunk_rows = chunk_rows
        self._buffers: dict[str, list[tuple[Any, ...]]] = {name: [] for name in _TABLES}

    def create_tables(self) -> None:
        """(Re)create the empty staging tables for this import."""
        self.drop_tables()
        for name, columns in _TABLES.items():
            types = (
                f"{column} {pg if self._is_postgresql else lite}" for column, pg, lite in columns
            )
            # ON COMMIT DROP: PostgreSQL removes them with the transaction, whatever happens.
            suffix = " ON COMMIT DROP" if self._is_postgresql else ""
            self._connection.execute(text(f"CREATE TEMP TABLE {name} ({', '.join(types)}){suffix}"))

    def drop_tables(self) -> None:
        """Drop the staging and derived tables if they exist."""
        for name in (*_TABLES, *DERIVED_TABLES):
            self._connection.execute(text(f"DROP TABLE IF EXISTS {name}"))

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        """Stage one row (written with the next chunk of its table)."""
        buffer = self._buffers[table]
        buffer.append(row)
        if len(buffer) >= self._chunk_rows:
            self._write(table, buffer)
            buffer.clear()

    def flush(self) -> None:
        """Write every buffered row."""
        for table, buffer in self._buffers.items():
            if buffer:
                self._write(table, buffer)
                buffer.clear()

    def finish(self) -> None:
        """Write what is buffered, then give the planner statistics (and SQLite its indexes)."""
        self.flush()
        if self._is_postgresql:
            for name in _TABLES:
                self._connection.execute(text(f"ANALYZE {name}"))
            return
        for statement in _SQLITE_INDEXES:
            self._connection.execute(text(statement))

    def _write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        columns = ", ".join(column for column, _, _ in _TABLES[table])
        # psycopg or sqlite3 connection, under the session's transaction.
        driver: Any = self._connection.connection.driver_connection
        if self._is_postgresql:
            # psycopg's C row writer: measured twice as fast as writing csv text ourselves.
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(_TABLES[table]))
        insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - constants
        driver.executemany(insert, rows)


# SQLite has no hash joins: the look-ups of the checks and upserts need these.
_SQLITE_INDEXES = (
    "CREATE INDEX roster_user_sourced ON roster_user (sourced_id)",
    "CREATE INDEX roster_user_person ON roster_user (sis_person_id)",
    "CREATE INDEX roster_role_user ON roster_role (user_sid)",
    "CREATE INDEX roster_enrol_user ON roster_enrol (user_sid)",
    "CREATE INDEX roster_demo_sourced ON roster_demo (sourced_id)",
)
