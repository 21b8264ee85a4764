"""What the `idp` command groups share: errors and times printed for an operator's terminal.

idp/cli.py and every capability's cli.py import it. It is a module of its own because idp/cli.py
imports each capability's group: a group importing from idp/cli.py would be an import cycle.
Like the groups it is an edge (tests/unit/test_layering.py): domain code never imports it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, NoReturn, cast

import click
from flask.cli import AppGroup

from idp.errors import DomainError
from idp.unit_of_work import UnitOfWork


def fail(error: DomainError) -> NoReturn:
    """Print a domain error in English (an operator's terminal) and exit 1."""
    from flask_babel import force_locale

    with force_locale("en"):
        click.echo(f"idp: {error.code}: {error.render()}", err=True)
    sys.exit(1)


def when(value: datetime | None) -> str:
    """A time for the terminal: ISO 8601 to the second, or '-'."""
    return value.isoformat(timespec="seconds") if value is not None else "-"


class CommandGroup(AppGroup):
    """A command group whose every command runs in the app context (AppGroup) as one unit of
    work (idp/unit_of_work.py): committed when the command returns, rolled back when it fails
    (an exception, or `sys.exit` with an error). A command that must change nothing on purpose
    (a dry run) rolls back itself, before it returns."""

    # Both override click's overloads with the decorator-factory form, the one this project
    # uses (`@group.command("name")`), as flask.cli.AppGroup does.
    def command(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Command]:
        in_app = kwargs.get("with_appcontext", True)  # a command without the app has no database
        register = super().command(*args, **kwargs)

        def decorator(callback: Callable[..., Any]) -> click.Command:
            return register(_in_unit_of_work(callback) if in_app else callback)

        return decorator

    def group(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Group]:
        kwargs.setdefault("cls", CommandGroup)
        return super().group(*args, **kwargs)


def _in_unit_of_work(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        work = unit_of_work()
        try:
            result = callback(*args, **kwargs)
        except SystemExit as leaving:
            if leaving.code in (None, 0):
                work.finish()
            else:
                work.rollback()
            raise
        except BaseException:
            work.rollback()
            raise
        work.finish()
        return result

    return run


def unit_of_work() -> UnitOfWork:
    """The running command's unit of work."""
    from flask import current_app

    return cast(UnitOfWork, current_app.extensions["idp.unit_of_work"])
