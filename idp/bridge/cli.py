"""`idp bridge …`: import legacy Infinite Campus credentials, show a person's bridge status.

The bridge's command group, registered on the `idp` group by idp/cli.py. Like every capability's
cli.py it is an edge (tests/unit/test_layering.py): it may import Flask and click. Its subcommands
run in the app context (`idp.cli_support.CommandGroup`), each command one unit of work.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from idp.bridge.legacy import IMPORT_HELP
from idp.cli_support import CommandGroup, fail, when


@click.group(cls=CommandGroup)
def bridge() -> None:
    """Infinite Campus bridge: legacy IC credentials (README "Infinite Campus bridge")."""


@bridge.command("import", help=IMPORT_HELP)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def bridge_import(file: Path) -> None:
    """Import legacy IC accounts from FILE (help: idp.bridge.legacy.IMPORT_HELP)."""
    from flask_babel import force_locale

    from idp.bridge.errors import LegacyFileError, LegacyFileUnreadableError

    legacy = current_app.extensions["idp.services"].legacy_credentials
    try:
        report = legacy.import_file(file)
    except LegacyFileError as error:
        with force_locale("en"):  # an operator's terminal
            for line, problem in error.line_problems:
                click.echo(f"{file}:{line}: {problem.render()}", err=True)
            click.echo(f"idp: {error.render()}", err=True)
        sys.exit(1)
    except LegacyFileUnreadableError as error:
        with force_locale("en"):
            click.echo(f"{file}: {error.render()}", err=True)
        sys.exit(1)
    click.echo(report.as_line())


@bridge.command("status")
@click.option("--person-id", required=True, help="SIS Person ID of the guardian.")
def bridge_status(person_id: str) -> None:
    """Show whether a person has a legacy IC credential, and when it was migrated."""
    from idp.errors import DomainError

    legacy = current_app.extensions["idp.services"].legacy_credentials
    try:
        credentials = legacy.status(person_id)
    except DomainError as error:
        fail(error)
    if not credentials:
        click.echo(f"{person_id}: no legacy IC credential")
    for credential in credentials:
        migrated = "not yet"
        if credential.migrated_at is not None:
            to = credential.portal_username or "an account since closed"
            migrated = f"{when(credential.migrated_at)} (portal username {to})"
        rows = [
            ("IC username", credential.ic_username),
            ("hash", credential.scheme),
            ("imported", when(credential.imported_at)),
            ("migrated", migrated),
        ]
        for label, value in rows:
            click.echo(f"{label:<12} {value}")
