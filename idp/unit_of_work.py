"""One transaction per request, command or worker job, committed once by the edge that opened it.

Services read and write through the session and never commit or roll back: the edge does,
here. A web request finishes its unit of work after the session store has written the browser
session (idp/web/setup.py), a command when it returns (idp/cli_support.py), a worker job after
each job (idp/cli.py). An error that is not a DomainError rolls everything back. A DomainError
rolls back too (bad input changes nothing), unless its class `keeps_changes`: a refusal that
the use case recorded first (a failed sign-in counted, a refusal audited) is committed with it.

A unit of work that wrote nothing ends its read transaction without a COMMIT, as the connection
pool would: the statement and commit counts of `bench/oidc_bench.py --count-sql` stay as they
were. SQLAlchemy's Session knows about pending ORM objects but not about statements run on its
connection (the hot paths do that), so whether a transaction wrote is noted per connection, from
the statement text, below. Hand-written: neither SQLAlchemy nor Flask-SQLAlchemy has it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.pool import Pool

from idp.errors import DomainError

_WROTE = "idp.unit_of_work.wrote"
_READS = ("SELECT", "select")


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(
    connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
) -> None:
    """Anything but a SELECT counts as a write (INSERT, UPDATE, DELETE, a CTE, a savepoint)."""
    if not statement.lstrip().startswith(_READS):
        connection.info[_WROTE] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget_writes(connection: Any) -> None:
    connection.info.pop(_WROTE, None)


@event.listens_for(Pool, "checkin")
def _forget_writes_on_checkin(dbapi_connection: Any, record: Any) -> None:
    """The pool rolls back what it gets back; the next checkout starts clean."""
    if record is not None:
        record.info.pop(_WROTE, None)


class UnitOfWork:
    """The one transaction of a request, a command or a worker job, on the current session:
    Flask-SQLAlchemy's scoped session gives the one of this app context, and a request that
    never touched the database (discovery, JWKS) has none, which is left so (no Session is made
    just to find it has nothing to do)."""

    def __init__(self, sessions: scoped_session[Any]) -> None:
        self._sessions = sessions

    def _current(self) -> Session:
        session: Session = self._sessions()
        return session

    def wrote(self) -> bool:
        """Whether this transaction has anything to commit."""
        if not self._sessions.registry.has():
            return False
        session = self._current()
        if session.new or session.dirty or session.deleted:
            return True
        return session.in_transaction() and bool(session.connection().info.get(_WROTE))

    def finish(self) -> None:
        """Commit what was written; a transaction that only read ends without a COMMIT."""
        if not self._sessions.registry.has():
            return
        session = self._current()
        if self.wrote():
            session.commit()
        elif session.in_transaction():
            session.rollback()

    def rollback(self) -> None:
        """Drop everything this unit of work wrote."""
        if self._sessions.registry.has():
            self._current().rollback()

    def refused(self, error: BaseException) -> None:
        """A use case raised `error`: drop everything written, unless `error` is a refusal
        that keeps what it recorded (DomainError.keeps_changes); the edge still finishes."""
        if not (isinstance(error, DomainError) and error.keeps_changes):
            self.rollback()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        """`with work(): ...`: the whole unit; finished on success and after a refusal that
        keeps its record, rolled back after any other error (then re-raised)."""
        try:
            yield
        except BaseException as error:
            self.refused(error)
            self.finish()
            raise
        self.finish()
