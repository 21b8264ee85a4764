"""One OneRoster import, in one transaction: read and stage, check, apply, or change nothing."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.policy import RosterPolicy
from idp.roster.oneroster.applying import Plan, apply
from idp.roster.oneroster.checks import (
    add_known_people,
    link_agents,
    rank_users_by_role,
    run_checks,
)
from idp.roster.oneroster.deactivation import DeactivationGuard
from idp.roster.oneroster.manifest import Manifest, read_manifest
from idp.roster.oneroster.records import (
    ReadState,
    RowReader,
    class_reader,
    demographic_reader,
    enrollment_reader,
    org_reader,
)
from idp.roster.oneroster.report import ImportReport, Problem
from idp.roster.oneroster.source import (
    DEFAULT_LIMITS,
    ByteCounter,
    ReadLimits,
    Source,
    SourceError,
    open_source,
    open_text,
)
from idp.roster.oneroster.spec import ENROLLMENTS, ORGS, READ_ORDER, ROLES, USERS, FileSpec
from idp.roster.oneroster.sql import Sql
from idp.roster.oneroster.staging import Stager
from idp.roster.oneroster.table import FileContext, Table
from idp.roster.oneroster.users import UserReader, role_reader

READERS: dict[str, Callable[[Table, ReadState], RowReader]] = {
    "orgs": org_reader,
    "classes": class_reader,
    "users": UserReader,
    "roles": role_reader,
    "enrollments": enrollment_reader,
    "demographics": demographic_reader,
}
_TICK_ROWS = 8192
_log = logging.getLogger("idp.roster")
# Serialises imports on PostgreSQL (SQLite has a single writer anyway).
_IMPORT_LOCK_KEY = 0x1D9_0501
_WORK_MEM = "256MB"
_TEMP_BUFFERS = "512MB"


@dataclass(frozen=True)
class Progress:
    """Where a running import is: the file being read or the step being applied."""

    stage: str
    rows: int
    bytes_done: int
    bytes_total: int


ProgressCallback = Callable[[Progress], None]


class RosterImporter:
    """Imports a OneRoster 1.1 or 1.2 CSV export (folder or ZIP) into the roster tables."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        policy: RosterPolicy,
        limits: ReadLimits = DEFAULT_LIMITS,
    ) -> None:
        self._session = session
        self._clock = clock
        self._policy = policy
        self._limits = limits

    def run(
        self,
        path: Path,
        *,
        dry_run: bool = False,
        allow_mass_deactivation: bool = False,
        progress: ProgressCallback | None = None,
    ) -> ImportReport:
        """Import `path`, in the caller's one transaction: the caller commits it only when
        the report `is_applied`, and rolls it back otherwise (errors, `dry_run`), so that
        nothing changes (idp/roster/cli.py).

        A bulk users.csv that deactivates more than the policy's share of the roster is an
        error unless `allow_mass_deactivation` (see deactivation.py)."""
        report = ImportReport()
        try:
            run = _Run(self._session, self._policy, report, progress or _ignore)
            with open_source(path, self._limits) as source:
                run.read_and_apply(source, path, self._clock.now(), allow_mass_deactivation)
        except SourceError as error:
            report.error(Problem(error.code, path.name, params=error.params))
        except OSError as error:
            report.error(Problem("unreadable", path.name, params={"reason": str(error)}))
        except SQLAlchemyError as error:
            # The class only: the database's message may quote a row (names, birth dates).
            reason = type(getattr(error, "orig", error)).__name__
            _log.warning("roster:import:database_error %s", reason)
            report.error(Problem("database", path.name, params={"reason": reason}))
        if not (report.has_errors or dry_run):
            run.stager.drop_tables()
            report.is_applied = True
        return report


def _ignore(progress: Progress) -> None:
    """The progress callback of an import nobody watches."""


class _Run:
    """The state of one import while it runs."""

    def __init__(
        self, session: Session, policy: RosterPolicy, report: ImportReport, notify: ProgressCallback
    ) -> None:
        self.session = session
        self.policy = policy
        self.report = report
        self.notify = notify
        self.connection: Connection = session.connection()
        self.sql = Sql(self.connection)
        self.stager = Stager(self.connection)
        self.counter = ByteCounter()
        self.rows = 0
        self.bytes_total = 0

    def read_and_apply(
        self, source: Source, path: Path, now: datetime, allow_mass_deactivation: bool
    ) -> None:
        """The whole import, up to (not including) the commit or rollback."""
        if not source.names():
            self.report.error(Problem("no_import", path.name, params={"path": str(path)}))
            return
        manifest = read_manifest(source, self.report, self.counter)
        if manifest is None or self.report.has_errors:
            return
        self._begin()
        self.stager.create_tables()
        if not self._read_files(source, manifest):
            return  # lines were skipped: the checks across files would only repeat that
        self.stager.finish()
        self._check(manifest)
        if not self.report.has_errors:
            self._apply(manifest, now, allow_mass_deactivation)

    def _apply(self, manifest: Manifest, now: datetime, allow_mass_deactivation: bool) -> None:
        guard = None
        # policies/rollout.toml [roster] max_deactivation_share_percent (deactivation.py).
        if manifest.mode(USERS) == "bulk" and not allow_mass_deactivation:
            guard = DeactivationGuard(self.sql, self.policy.max_deactivation_share_percent)
            guard.start()
        apply(self.sql, self._plan(manifest, now), self.report, self._step)
        self.report.staff_ignored = self.sql.scalar(
            "SELECT count(*) FROM roster_user WHERE line IS NOT NULL AND rank >= 10"
        )
        if guard is not None:
            guard.check(self.report)

    def _begin(self) -> None:
        """Open the write transaction now, so that the staging tables belong to it."""
        if self.sql.is_postgresql:
            self.connection.execute(text(f"SELECT pg_advisory_xact_lock({_IMPORT_LOCK_KEY})"))
            # Hash joins and aggregates over a million staged rows stay in memory.
            self.connection.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
            # Staging tables in memory too; PostgreSQL refuses the change once the session has
            # used temporary tables (an earlier import on this connection): then keep it.
            with contextlib.suppress(DBAPIError), self.session.begin_nested():
                self.connection.execute(text(f"SET LOCAL temp_buffers = '{_TEMP_BUFFERS}'"))
        else:
            # pysqlite begins a transaction only before a write: this one changes nothing.
            self.connection.execute(text("DELETE FROM school WHERE 1 = 0"))

    def _read_files(self, source: Source, manifest: Manifest) -> bool:
        specs = [spec for spec in READ_ORDER if manifest.is_read(spec)]
        self.bytes_total = sum(source.size(spec.name) for spec in specs)
        state = ReadState(
            self.stager,
            manifest.version,
            self.policy.person_id_column,
            is_orgs_complete=manifest.mode(ORGS) == "bulk",
        )
        if not state.is_orgs_complete:
            known = "SELECT sourced_id FROM school WHERE sourced_id IS NOT NULL AND is_active"
            state.schools.update(row[0] for row in self.sql.rows(known))
        return all([self._read_file(source, manifest, spec, state) for spec in specs])

    def _read_file(
        self, source: Source, manifest: Manifest, spec: FileSpec, state: ReadState
    ) -> bool:
        extra = (state.person_id_column,) if spec is USERS else ()
        context = FileContext(spec, manifest.version, manifest.mode(spec), self.report, extra)
        count = 0
        with open_text(source, spec.name, self.counter) as (text_file, has_bom):
            table = Table(context, text_file)
            if has_bom:
                table.warn("bom", None)
            if not table.read_header():
                return False
            read = READERS[spec.key](table, state)
            for row in table.rows():
                read(row)
                count += 1
                if not count % _TICK_ROWS:
                    self._tick(spec.name, count)
        self.rows += count
        self.report.rows_read[spec.name] = count
        return not table.is_damaged

    def _tick(self, stage: str, count: int) -> None:
        self.notify(Progress(stage, self.rows + count, self.counter.done, self.bytes_total))

    def _step(self, stage: str) -> None:
        self.notify(Progress(stage, self.rows, self.bytes_total, self.bytes_total))

    def _check(self, manifest: Manifest) -> None:
        self._step("checks")
        if manifest.version == "1.2":
            rank_users_by_role(self.sql)
        link_agents(self.sql)
        if manifest.mode(USERS) != "bulk":
            add_known_people(self.sql)
        run_checks(self.sql, self.report, self.policy.person_id_column, manifest.version)

    def _plan(self, manifest: Manifest, now: datetime) -> Plan:
        enrolment_source = (
            ENROLLMENTS
            if manifest.is_read(ENROLLMENTS)
            else (USERS if manifest.version == "1.1" else ROLES)
        )
        policy = self.policy
        return Plan(
            now=now,
            orgs_mode=_mode(manifest, ORGS),
            users_mode=_mode(manifest, USERS),
            enrollments_mode=_mode(manifest, enrolment_source),
            is_parent_legal_guardian=policy.is_parent_legal_guardian,
            is_guardian_legal_guardian=policy.is_guardian_legal_guardian,
        )


def _mode(manifest: Manifest, spec: FileSpec) -> str | None:
    return manifest.mode(spec) if manifest.is_read(spec) else None
