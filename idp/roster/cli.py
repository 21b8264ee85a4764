"""`idp roster …`: import a OneRoster export, restrict and lift a guardian's access to a
student, write a synthetic district.

The roster's command group, registered on the `idp` group by idp/cli.py. Like web/, a capability's
cli.py is an edge (tests/unit/test_layering.py): it may import Flask and click. Every subcommand
but `synth` runs in the app context (`idp.cli_support.CommandGroup`), each command one unit of
work.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO, cast

import click
from flask import current_app
from flask_babel import force_locale, lazy_gettext, lazy_ngettext
from sqlalchemy.orm import Session

from idp.cli_support import CommandGroup, fail, unit_of_work, when
from idp.clock import monotonic
from idp.errors import DomainError
from idp.extensions import db
from idp.roster.oneroster import ImportReport, Progress, RosterImporter
from idp.roster.oneroster.messages import render
from idp.roster.oneroster.synth import write_synthetic_district

# The CLI speaks to district IT in English (STYLE.md 5: English is the source language).
_LOCALE = "en"
_PROGRESS_SECONDS = 1.0

_READING = lazy_gettext(
    "%(stage)s: %(rows)s rows read, %(rate)s rows/s, %(percent)s%% of the files read,"
    " reading done in about %(eta)s s"
)
_APPLYING = lazy_gettext("%(stage)s… (%(seconds)s s)")
_DRY_RUN = lazy_gettext("Dry run: the files are valid; nothing was changed.")
_DONE = lazy_gettext("Import done in %(seconds)s s (%(rows)s rows).")
_SYNTH = lazy_gettext(
    "Wrote %(students)s students, %(guardians)s guardians, %(relationships)s relationships"
    " and %(schools)s schools to %(out)s."
)

_GUARDIAN = click.option("--guardian", required=True, help="The guardian's SIS Person ID.")
_STUDENT = click.option("--student", required=True, help="The student's SIS Person ID.")
_STAFF = click.option("--staff", "staff_username", required=True, help="Staff username.")
_REASON = click.option("--reason", required=True, help="The legal reason (e.g. court order).")


@click.group(cls=CommandGroup)
def roster() -> None:
    """SIS roster: OneRoster CSV import, restrictions, synthetic test districts."""


@roster.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check everything, then roll back.")
@click.option(
    "--allow-mass-deactivation",
    is_flag=True,
    help="Go ahead even if a bulk users.csv deactivates more of the active students, guardians"
    " or relationships than rollout.toml's roster.max_deactivation_share_percent.",
)
def roster_import(path: Path, dry_run: bool, allow_mass_deactivation: bool) -> None:
    """Import the OneRoster 1.1/1.2 CSV export at PATH (a folder or a .zip), all or nothing."""
    extensions = current_app.extensions
    importer = RosterImporter(
        cast(Session, db.session),
        extensions["idp.clock"],
        extensions["idp.policies"].rollout.roster,
    )
    printer = ProgressPrinter(sys.stderr)
    report = importer.run(
        path,
        dry_run=dry_run,
        allow_mass_deactivation=allow_mass_deactivation,
        progress=printer,
    )
    if not report.is_applied:
        unit_of_work().rollback()  # errors or a dry run: nothing changes
    with force_locale(_LOCALE):
        _print_report(report, dry_run, printer.elapsed())
    if report.has_errors:
        sys.exit(1)


def _print_report(report: ImportReport, dry_run: bool, seconds: float) -> None:
    for line in report.warning_lines():
        click.echo(line, err=True)
    if report.has_errors:
        for line in report.error_lines():
            click.echo(line, err=True)
        refused = lazy_ngettext(
            "Import refused: %(num)s error. Nothing was changed; correct the files and run it"
            " again.",
            "Import refused: %(num)s errors. Nothing was changed; correct the files and run it"
            " again.",
            report.error_count,
        )
        click.echo(str(refused), err=True)
        return
    for line in report.count_lines():
        click.echo(line)
    if report.staff_ignored:
        staff = lazy_ngettext(
            "%(num)s staff user was not imported (staff accounts are made in the IdP).",
            "%(num)s staff users were not imported (staff accounts are made in the IdP).",
            report.staff_ignored,
        )
        click.echo(str(staff))
    rows = sum(report.rows_read.values())
    click.echo(render(_DONE, {"seconds": f"{seconds:.1f}", "rows": rows}))
    if dry_run:
        click.echo(str(_DRY_RUN))


@roster.command("restrict")
@_GUARDIAN
@_STUDENT
@_STAFF
@_REASON
def restrict(guardian: str, student: str, staff_username: str, reason: str) -> None:
    """Take a guardian's access to one student away at once: the guardian's tokens end and
    every app they signed in to is told (back-channel logout). Imports never lift it."""
    staff = current_app.extensions["idp.services"].staff
    try:
        relationship = staff.restrict_guardian(guardian, student, staff_username, reason)
    except DomainError as error:
        fail(error)
    click.echo(f"restricted {guardian} -> {student} at {when(relationship.restricted_at)}")


@roster.command("lift")
@_GUARDIAN
@_STUDENT
@_STAFF
@_REASON
def lift(guardian: str, student: str, staff_username: str, reason: str) -> None:
    """Give the access back: the student shows again from the guardian's next sign-in."""
    staff = current_app.extensions["idp.services"].staff
    try:
        staff.lift_restriction(guardian, student, staff_username, reason)
    except DomainError as error:
        fail(error)
    click.echo(f"lifted {guardian} -> {student}")


@roster.command("synth", with_appcontext=False)  # needs no app (nor a valid configuration)
@click.option("--students", type=click.IntRange(min=1), required=True, help="How many students.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same files.")
def roster_synth(students: int, out: Path, seed: int) -> None:
    """Write a consistent synthetic OneRoster 1.1 district (2 guardians per 3 students)."""
    summary = write_synthetic_district(out, students, seed)
    with force_locale(_LOCALE):
        params = {**vars(summary), "out": str(out)}
        click.echo(render(_SYNTH, params))


class ProgressPrinter:
    """Prints an import's progress to a terminal at most once a second."""

    def __init__(self, stream: TextIO, interval_seconds: float = _PROGRESS_SECONDS) -> None:
        self._stream = stream
        self._interval = interval_seconds
        self._started = monotonic()
        self._last = self._started

    def elapsed(self) -> float:
        """Seconds since the import started."""
        return monotonic() - self._started

    def __call__(self, progress: Progress) -> None:
        """Print a line if a second has passed since the last one."""
        now = monotonic()
        if now - self._last < self._interval:
            return
        self._last = now
        with force_locale(_LOCALE):
            click.echo(self.describe(progress, now - self._started), file=self._stream)

    @staticmethod
    def describe(progress: Progress, seconds: float) -> str:
        """One progress line: rows, rate and ETA while reading; the step while applying."""
        if progress.bytes_done >= progress.bytes_total:
            return render(_APPLYING, {"stage": progress.stage, "seconds": f"{seconds:.0f}"})
        share = progress.bytes_done / progress.bytes_total if progress.bytes_total else 0.0
        eta = seconds * (1 - share) / share if share else 0.0
        params = {
            "stage": progress.stage,
            "rows": f"{progress.rows:,}",
            "rate": f"{progress.rows / seconds if seconds else 0:,.0f}",
            "percent": f"{share * 100:.0f}",
            "eta": f"{eta:.0f}",
        }
        return render(_READING, params)
