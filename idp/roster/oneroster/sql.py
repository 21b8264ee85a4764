"""Running the import's set-based SQL on PostgreSQL and SQLite alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, text

from idp.sqltypes import UtcDateTime


class Sql:
    """The import's connection, with the few spellings that differ between the databases."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.is_postgresql = connection.dialect.name == "postgresql"
        # Null-safe "differs": SQLite spells it IS NOT (IS DISTINCT FROM only since 3.39).
        self.differs = "IS DISTINCT FROM" if self.is_postgresql else "IS NOT"

    def run(self, statement: str, **params: Any) -> int:
        """Execute one statement; the number of rows it inserted, updated or deleted."""
        return int(self.connection.execute(_text(statement, params), params).rowcount)

    def rows(self, statement: str, **params: Any) -> list[tuple[Any, ...]]:
        """The rows a query returns, as plain tuples."""
        return [tuple(row) for row in self.connection.execute(_text(statement, params), params)]

    def scalar(self, statement: str, **params: Any) -> int:
        """A query's single number."""
        return int(self.connection.execute(_text(statement, params), params).scalar_one() or 0)

    def derive(self, table: str, query: str, *indexes: str, **params: Any) -> None:
        """Create a temporary table from a query, ready for joins (statistics or indexes)."""
        suffix = " ON COMMIT DROP" if self.is_postgresql else ""
        self.run(f"DROP TABLE IF EXISTS {table}")
        self.run(f"CREATE TEMP TABLE {table}{suffix} AS {query}", **params)
        if self.is_postgresql:
            self.run(f"ANALYZE {table}")
            return
        for number, columns in enumerate(indexes):
            self.run(f"CREATE INDEX {table}_{number} ON {table} ({columns})")


def _text(statement: str, params: dict[str, Any]) -> Any:
    clause = text(statement)
    if "now" in params:
        # Stored like every other UtcDateTime column (naive UTC text on SQLite).
        clause = clause.bindparams(bindparam("now", type_=UtcDateTime()))
    return clause
