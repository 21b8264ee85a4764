"""The `idp` command line: the root group, which creates the app and registers every
capability's command group (`<capability>/cli.py`), and the one command of no capability:
`worker`, the job runner. The app adds `db` (Flask-Migrate), `limiter` (Flask-Limiter) and
Flask's `run`, `shell` and `routes`. What the groups share lives in idp/cli_support.py.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, cast

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup
from sqlalchemy.orm import Session

from idp.bridge.cli import bridge
from idp.config import ConfigError
from idp.credentials.cli import students
from idp.demo.cli import demo
from idp.extensions import db
from idp.lifecycle.cli import accounts, lifecycle
from idp.oidc.cli import clients, signing_keys
from idp.policy import PolicyError
from idp.policy.cli import policies
from idp.registration.cli import activation
from idp.roster.cli import roster
from idp.staff.cli import staff

# Accounts provisioned per worker round (each its own unit of work); the rest wait for the next.
PROVISION_BATCH = 100


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


# Each capability's command group (its cli.py). Their subcommands run in the app context
# unless marked otherwise (`flask.cli.AppGroup`).
COMMAND_GROUPS = (
    accounts,
    activation,
    bridge,
    clients,
    demo,
    lifecycle,
    policies,
    roster,
    signing_keys,
    staff,
    students,
)
for _group in COMMAND_GROUPS:
    main.add_command(_group)


@main.command("worker")
@click.option("--once", is_flag=True, help="Do what is due now, then exit.")
@click.option("--interval", default=5, show_default=True, help="Seconds between polls.")
def worker(once: bool, interval: int) -> None:
    """Provision confirmed registrations, remove expired ones, run the daily lifecycle sweep
    and deliver the outbox (emails, back-channel logout). Several workers may run at once."""
    import time

    run_once = _jobs()
    while True:
        report = run_once()
        if once or any(report.values()):
            click.echo(", ".join(f"{name} {count}" for name, count in report.items()))
        if once:
            return
        time.sleep(interval)


def _jobs() -> Callable[[], dict[str, int]]:
    """The worker's round of jobs, built once per process (templates, catalogs, senders)."""
    from idp.notifications.mail import build_mailer
    from idp.notifications.outbox import OutboxWorker
    from idp.oidc.logout import BACKCHANNEL_TEMPLATE

    extensions = current_app.extensions
    services, clock = extensions["idp.services"], extensions["idp.clock"]
    mailer = build_mailer(extensions["idp.settings"], clock, services.mail_preparers())
    senders: dict[str, Any] = dict.fromkeys(mailer.mail_templates, mailer)
    senders[BACKCHANNEL_TEMPLATE] = extensions["idp.logout"].prepare_backchannel
    outbox = OutboxWorker(cast(Session, db.session), clock, senders)
    work = extensions["idp.unit_of_work"]

    def run_once() -> dict[str, int]:
        # Each job is a unit of work of its own (one per account provisioned), so a crash
        # between them loses nothing. The outbox's delivery owns its short transactions: no
        # transaction may stay open while a message goes out (idp/notifications/outbox.py).
        provisioned = 0
        while provisioned < PROVISION_BATCH:
            with work():
                if not services.provisioning.provision_next():
                    break
            provisioned += 1
        with work():
            removed = services.lifecycle.remove_unconfirmed()
        with work():
            swept = services.lifecycle.sweep_if_due()  # once a day, whichever worker is first
        if swept is not None:
            logging.getLogger("idp.lifecycle").info("lifecycle:sweep:ran %s", swept.as_line())
        report = outbox.deliver_due()
        return {
            "provisioned": provisioned,
            "removed": removed,
            "sent": report.sent,
            "retried": report.retried,
            "dead": report.dead,
        }

    return run_once
