"""`idp students`: district passwords and sign-in lockouts of students.

The command group of student sign-in (idp/credentials/students.py), registered on the `idp` group
by idp/cli.py. Like every capability's cli.py it is an edge (tests/unit/test_layering.py): it may
import Flask and click. Its subcommands run in the app context (`idp.cli_support.CommandGroup`),
each command one unit of work.
"""

from __future__ import annotations

import click
from flask import current_app

from idp.cli_support import CommandGroup, fail, when


@click.group(cls=CommandGroup)
def students() -> None:
    """Student sign-in (accounts.toml [students]): district passwords and lockouts."""


@students.command("set-password")
@click.option("--student-id", required=True, help="The student's SIS Person ID.")
def students_set_password(student_id: str) -> None:
    """Set a student's district password (asked twice, never an option: shell history keeps
    options), creating the student's account if it has none."""
    from idp.credentials.students import normalize_student_id
    from idp.errors import DomainError

    services = current_app.extensions["idp.services"]
    password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        services.student_sign_in.set_password(student_id, password)
    except DomainError as error:
        fail(error)
    click.echo(f"password set for student {normalize_student_id(student_id)}")
    if services.student_sign_in.login != "district_password":
        click.echo("note: accounts.toml students.login is not district_password; unused for now")


@students.command("status")
@click.option("--student-id", required=True, help="The student's SIS Person ID.")
def students_status(student_id: str) -> None:
    """Show whether the student has an account, its state and last activity, and whether
    student sign-in is locked now (until when) after failures."""
    from idp.errors import DomainError

    try:
        status = current_app.extensions["idp.services"].student_sign_in.status(student_id)
    except DomainError as error:
        fail(error)
    locked = f"until {when(status.locked_until)}" if status.locked_until else "no"
    rows = [
        ("student ID", status.student_id),
        ("account", status.account_state or "none yet (made at the first sign-in)"),
        ("last activity", when(status.last_activity_at)),
        ("school open", "yes" if status.is_school_open else "no (policies/rollout.toml)"),
        ("sign-in locked", locked),
        ("locks in a row", str(status.lock_count)),
        ("failures (24 h)", str(status.recent_failures)),
    ]
    for label, value in rows:
        click.echo(f"{label:<16} {value}")
