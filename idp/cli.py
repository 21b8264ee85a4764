"""The `idp` command line: a Flask CLI group (db, policies, demo, ...)."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from idp.config import ConfigError, load_settings
from idp.policy import PolicyError, load_policies


def _create_app() -> Flask:
    from idp import create_app

    try:
        return create_app()
    except (ConfigError, PolicyError) as error:
        # One line naming what is wrong; no traceback for an operator's mistake.
        click.echo(f"idp: {error}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """Portal IdP: identity provider of the Parent/Student Portal."""


# Subcommands of these groups run inside an app context unless marked otherwise.


@main.group()
def policies() -> None:
    """Policy files (policies/*.toml)."""


@policies.command("check", with_appcontext=False)
def policies_check() -> None:
    """Load and validate every policy file; exit 1 with `file: key: reason` on error."""
    try:
        directory = load_settings().policy_dir
        load_policies(directory)
    except (ConfigError, PolicyError) as error:
        click.echo(f"idp: {error}", err=True)
        sys.exit(1)
    click.echo(f"policies OK ({directory})")


@main.group()
def demo() -> None:
    """The clearly labelled demo district."""


@demo.command("load")
@click.option("--json", "as_json", is_flag=True, help="Print the demo accounts as JSON.")
def demo_load(as_json: bool) -> None:
    """Create (or leave as it is) the demo district and print its accounts."""
    from idp.demo import load_demo_district

    app = current_app
    summary = load_demo_district(app.extensions["idp.services"], app.extensions["idp.clock"])
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(summary.as_text())
