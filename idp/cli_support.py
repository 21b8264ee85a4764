"""What the `idp` command groups share: errors and times printed for an operator's terminal.

idp/cli.py and every capability's cli.py import it. It is a module of its own because idp/cli.py
imports each capability's group: a group importing from idp/cli.py would be an import cycle.
Like the groups it is an edge (tests/unit/test_layering.py): domain code never imports it.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import NoReturn

import click

from idp.errors import DomainError


def fail(error: DomainError) -> NoReturn:
    """Print a domain error in English (an operator's terminal) and exit 1."""
    from flask_babel import force_locale

    with force_locale("en"):
        click.echo(f"idp: {error.code}: {error.render()}", err=True)
    sys.exit(1)


def when(value: datetime | None) -> str:
    """A time for the terminal: ISO 8601 to the second, or '-'."""
    return value.isoformat(timespec="seconds") if value is not None else "-"
