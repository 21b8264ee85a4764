"""Issue 15.3: one unit of work per request, command or worker job (idp/unit_of_work.py).

What the edge commits, what it rolls back, and that a unit that only read ends without a COMMIT
(the statement and commit counts of bench/oidc_bench.py --count-sql stay as they were). Run on
both databases; "seen from another connection" is read on a connection of its own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any, ClassVar

import click
import pytest
from flask import Flask
from sqlalchemy import event, insert, select, text
from sqlalchemy.engine import Engine

from idp.audit.models import AuditEvent
from idp.cli_support import CommandGroup
from idp.errors import DomainError
from idp.extensions import db
from idp.unit_of_work import UnitOfWork
from tests.conftest import START, unit_of_work


class _RefusalError(DomainError):
    code = "refused"


class _RecordedRefusalError(DomainError):
    code = "refused_and_recorded"
    keeps_changes: ClassVar[bool] = True


def _record(event_name: str) -> None:
    db.session.execute(insert(AuditEvent).values(event=event_name, occurred_at=START, data={}))


def _seen_elsewhere(event_name: str) -> bool:
    with db.engine.connect() as other:
        query = select(AuditEvent.id).where(AuditEvent.event == event_name)
        return other.execute(query).first() is not None


def _write_then_raise(work: UnitOfWork, event_name: str, error: type[BaseException]) -> None:
    with work():
        _record(event_name)
        raise error


@pytest.fixture
def work(app: Flask) -> UnitOfWork:
    return unit_of_work(app)


@pytest.fixture
def commits(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def on_commit(connection: Any) -> None:
        seen.append("commit")

    def on_rollback(connection: Any) -> None:
        seen.append("rollback")

    event.listen(Engine, "commit", on_commit)
    event.listen(Engine, "rollback", on_rollback)
    yield seen
    event.remove(Engine, "commit", on_commit)
    event.remove(Engine, "rollback", on_rollback)


def test_what_a_unit_wrote_is_committed_once(work: UnitOfWork, commits: list[str]) -> None:
    with work():
        _record("test:uow:written")
        _record("test:uow:written")
    assert commits == ["commit"]
    assert _seen_elsewhere("test:uow:written")


def test_a_unit_that_only_read_ends_without_a_commit(work: UnitOfWork, commits: list[str]) -> None:
    with work():
        db.session.execute(select(AuditEvent.id).limit(1)).all()
    assert commits == ["rollback"]
    assert not db.session().in_transaction()


def test_a_write_through_the_connection_counts(work: UnitOfWork, commits: list[str]) -> None:
    """The hot paths write with `session.connection().execute` (no ORM object pending)."""
    with work():
        db.session.connection().execute(
            text("INSERT INTO audit_event (event, occurred_at, data) VALUES (:e, :t, '{}')"),
            {"e": "test:uow:core", "t": "2026-09-01T12:00:00+00:00"},
        )
    assert commits == ["commit"]
    assert _seen_elsewhere("test:uow:core")


def test_a_refusal_changes_nothing(work: UnitOfWork) -> None:
    with pytest.raises(_RefusalError):
        _write_then_raise(work, "test:uow:refused", _RefusalError)
    assert not _seen_elsewhere("test:uow:refused")


def test_a_refusal_that_keeps_its_record_is_committed(work: UnitOfWork) -> None:
    with pytest.raises(_RecordedRefusalError):
        _write_then_raise(work, "test:uow:recorded", _RecordedRefusalError)
    assert _seen_elsewhere("test:uow:recorded")


def test_any_other_error_rolls_everything_back(work: UnitOfWork) -> None:
    with pytest.raises(RuntimeError):
        _write_then_raise(work, "test:uow:crashed", RuntimeError)
    assert not _seen_elsewhere("test:uow:crashed")


def test_the_next_unit_starts_clean_after_a_rollback(work: UnitOfWork, commits: list[str]) -> None:
    """What one unit wrote and dropped is not taken for a write of the next one."""
    with pytest.raises(RuntimeError):
        _write_then_raise(work, "test:uow:dropped", RuntimeError)
    commits.clear()
    with work():
        db.session.execute(select(AuditEvent.id).limit(1)).all()
    assert commits == ["rollback"]


def _command_that(outcome: str) -> CommandGroup:
    """A command group with one command that writes, then ends as `outcome` says."""

    @click.group(cls=CommandGroup)
    def group() -> None:
        """A test group."""

    @group.command("write")
    def write() -> None:
        _record(f"test:uow:command:{outcome}")
        if outcome == "fails":
            sys.exit(1)
        if outcome == "exits_zero":
            sys.exit(0)
        if outcome == "crashes":
            raise RuntimeError("crash")

    return group


@pytest.mark.parametrize(
    ("outcome", "is_kept"),
    [("returns", True), ("exits_zero", True), ("fails", False), ("crashes", False)],
)
def test_a_command_is_one_unit_of_work(app: Flask, outcome: str, is_kept: bool) -> None:
    """Committed when the command returns (or exits 0), rolled back when it fails."""
    app.test_cli_runner().invoke(_command_that(outcome), ["write"])

    assert _seen_elsewhere(f"test:uow:command:{outcome}") is is_kept
