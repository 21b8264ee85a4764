"""Command groups of the `idp` command line that live outside idp/cli.py (which registers them).

Helpers shared by the groups: errors and times printed for an operator's terminal.
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
