"""`idp demo load`: the clearly labelled demo district, and its accounts printed.

The demo district's command group, registered on the `idp` group by idp/cli.py. Like every
capability's cli.py it is an edge (tests/unit/test_layering.py): it may import Flask and click. Its
subcommand runs in the app context (`idp.cli_support.CommandGroup`), each command one unit of work.
"""

from __future__ import annotations

import json

import click
from flask import current_app

from idp.cli_support import CommandGroup
from idp.demo import load_demo_district


@click.group(cls=CommandGroup)
def demo() -> None:
    """The clearly labelled demo district."""


@demo.command("load")
@click.option("--json", "as_json", is_flag=True, help="Print the demo accounts as JSON.")
def demo_load(as_json: bool) -> None:
    """Create (or leave as it is) the demo district and print its accounts."""
    app = current_app
    summary = load_demo_district(app.extensions["idp.services"], app.extensions["idp.clock"])
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(summary.as_text())
