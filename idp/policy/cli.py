"""`idp policies check`: load and validate every policy file, without starting the app.

The policy's command group, registered on the `idp` group by idp/cli.py. Like a capability's
cli.py it is an edge (tests/unit/test_layering.py): it may import Flask and click. Like the rest
of idp/policy it imports no capability; it reads only the settings, for the policy folder.
`check` runs outside the app context: a bad policy file stops the app from starting, and
reporting that file is the command's job.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from idp.config import ConfigError, load_settings
from idp.policy import PolicyError, load_policies


@click.group(cls=AppGroup)
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
