"""Roster import tests: the importer on this test's database, and a snapshot of the roster."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask, current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from idp.clock import FrozenClock
from idp.extensions import db
from idp.policy import RosterPolicy
from idp.roster.models import Enrollment, Person, Relationship, School
from idp.roster.oneroster import ImportReport, Progress, RosterImporter
from tests.conftest import unit_of_work

Snapshot = dict[str, list[tuple[Any, ...]]]
ImportRun = Callable[..., ImportReport]


@pytest.fixture
def english(app: Flask) -> Iterator[None]:
    """Render report lines in English (the CLI's language) for the whole test."""
    with force_locale("en"):
        yield


def import_as_the_command_does(
    importer: RosterImporter, path: Path, **options: Any
) -> ImportReport:
    """As `idp roster import` (idp/roster/cli.py): one unit of work, committed only when the
    report says the import is applied, rolled back otherwise (errors, a dry run)."""
    work = unit_of_work(current_app)
    with work():
        report = importer.run(path, **options)
        if not report.is_applied:
            work.rollback()
    return report


@pytest.fixture
def run_import(app: Flask, clock: FrozenClock) -> ImportRun:
    """Import a folder or ZIP with the shipped roster policy (or `policy=`)."""

    def run(
        path: Path,
        *,
        dry_run: bool = False,
        policy: RosterPolicy | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImportReport:
        roster = policy or app.extensions["idp.policies"].rollout.roster
        importer = RosterImporter(cast(Session, db.session), clock, roster)
        return import_as_the_command_does(importer, path, dry_run=dry_run, progress=progress)

    return run


def snapshot() -> Snapshot:
    """Every roster row, by natural keys (SIS ids), sorted: equal before and after means
    nothing changed."""
    guardian, student = aliased(Person), aliased(Person)
    rows = _rows
    return {
        "schools": sorted(rows(select(
            School.sis_id, School.sourced_id, School.name, School.is_active))),
        "persons": sorted(rows(select(
            Person.sis_person_id, Person.sourced_id, Person.role, Person.given_name,
            Person.family_name, Person.birth_date, Person.phone, Person.is_active,
            Person.updated_at))),
        "relationships": sorted(rows(
            select(guardian.sis_person_id, student.sis_person_id, Relationship.kind,
                   Relationship.is_legal_guardian, Relationship.is_active,
                   Relationship.restricted_at, Relationship.restriction_reason)
            .join(guardian, guardian.id == Relationship.guardian_id)
            .join(student, student.id == Relationship.student_id))),
        "enrollments": sorted(rows(
            select(Person.sis_person_id, School.sis_id, Enrollment.grade, Enrollment.is_active)
            .join(Person, Person.id == Enrollment.person_id)
            .join(School, School.id == Enrollment.school_id))),
    }  # fmt: skip


def _rows(query: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in db.session.execute(query)]


def relationships() -> set[tuple[str, str, str, bool, bool]]:
    """(guardian id, student id, kind, legal, active) of every relationship."""
    return {row[:5] for row in snapshot()["relationships"]}


def persons() -> dict[str, tuple[Any, ...]]:
    """SIS Person ID -> the person's row in the snapshot."""
    return {row[0]: row for row in snapshot()["persons"]}


def counts(report: ImportReport) -> dict[str, tuple[int, int, int]]:
    """(created, updated, deactivated) per entity."""
    return {
        entity: (number.created, number.updated, number.deactivated)
        for entity, number in report.counts.items()
    }
