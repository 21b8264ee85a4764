"""`idp lifecycle` and `idp accounts`: the sweep, and staff cancelling an account.

The lifecycle's two command groups (cancellation is a lifecycle transition, DESIGN.md 4),
registered on the `idp` group by idp/cli.py. Like every capability's cli.py they are an edge
(tests/unit/test_layering.py): they may import Flask and click. Their subcommands run in the app
context (`idp.cli_support.CommandGroup`), each command one unit of work.
"""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app

from idp.cli_support import CommandGroup, fail, unit_of_work


@click.group(cls=CommandGroup)
def lifecycle() -> None:
    """Account lifecycle: inactivity sweep (lifecycle.toml)."""


@lifecycle.command("sweep")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Sweep as if it were this day (UTC), e.g. a year ahead to see what would happen.",
)
@click.option("--dry-run", is_flag=True, help="Count what would change, change nothing.")
def lifecycle_sweep(as_of: datetime | None, dry_run: bool) -> None:
    """Warn, disable and delete idle accounts and remove unconfirmed registrations; prints
    the count per transition. Safe to run twice or from two machines at once."""
    from datetime import UTC

    services = current_app.extensions["idp.services"]
    when = as_of.replace(tzinfo=UTC) if as_of else None
    report = services.lifecycle.sweep(when)
    if dry_run:
        unit_of_work().rollback()  # counted, then nothing changes
    click.echo(("dry run (nothing changed): " if dry_run else "") + report.as_line())


@click.group(cls=CommandGroup)
def accounts() -> None:
    """Accounts: staff actions from the command line (the staff console comes later)."""


@accounts.command("cancel")
@click.option("--username", required=True, help="The account to cancel.")
@click.option("--staff", "staff_username", required=True, help="Username of the staff member.")
@click.option("--reason", required=True, help="Why the school cancels the account.")
def accounts_cancel(username: str, staff_username: str, reason: str) -> None:
    """Cancel an account at once: sessions and tokens end, apps are told, and the email may
    register again from the start."""
    from idp.errors import DomainError

    services = current_app.extensions["idp.services"]
    try:
        account = services.staff.cancel_account(username, staff_username, reason)
    except DomainError as error:
        fail(error)
    click.echo(f"cancelled {account.sub}")
