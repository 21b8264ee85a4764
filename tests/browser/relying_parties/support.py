"""What the relying-party journeys share: the guide's registrations moved to a free port, the
app's process started and awaited, the demo guardian, the outbox worker and its messages."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import Account
from idp.cli import main
from idp.clock import FrozenClock
from idp.config import PROJECT_ROOT
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.oidc.clients import ClientRegistry
from idp.roster.models import Person
from idp.services import Services
from tests.conftest import committed
from tests.integration.oidc.live import is_listening

GUIDE = PROJECT_ROOT / "docs" / "connect-an-app"
GUARDIAN = "DemoParent1"
STAFF = "DemoStaffHS1"
RESTRICTION_REASON = "Court order 2026-114"
START_SECONDS = 20


def missing(message: str) -> None:
    """A tool the journey needs is not installed: skipped locally, a failure in CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def registration(client_id: str) -> str:
    """The text of the guide's registration file for `client_id`."""
    return (GUIDE / "clients" / f"{client_id}.toml").read_text(encoding="utf-8")


def registered_name(client_id: str) -> str:
    """The `name` the provider's sign-in page shows for the guide's registration."""
    return str(tomllib.loads(registration(client_id))["name"])


def register(
    client_id: str, text: str, secret_env: str, services: Services, clock: FrozenClock
) -> str:
    """Register `text` as the file of `client_id`, as `idp clients sync` does; return the
    client secret (test-only) it was given."""
    directory = Path(tempfile.mkdtemp(prefix="rp-clients-"))
    (directory / f"{client_id}.toml").write_text(text, encoding="utf-8")
    secret = f"test-only-{client_id}-secret-0123456789abcdef"
    known = frozenset(services.claims.supported_scopes())
    registry = ClientRegistry(cast(Session, db.session), clock, known, env="test")
    with committed():
        registry.sync(directory, {secret_env: secret})
    services.keys.ensure_keys()
    shutil.rmtree(directory)
    return secret


def wait_until_listening(
    process: subprocess.Popen[bytes], port: int, log: Callable[[], str]
) -> None:
    """Wait for the app's port; fail with its output if it exits or does not open in time."""
    deadline = time.monotonic() + START_SECONDS
    while not is_listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{process.args!r} did not start:\n{log()}")
        time.sleep(0.1)


def account(username: str = GUARDIAN) -> Account:
    """The account as the database has it now."""
    db.session.expire_all()
    return db.session.execute(select(Account).where(Account.username == username)).scalar_one()


def guardian() -> Person:
    """The demo guardian's roster person."""
    query = select(Person).join(Account, Account.person_id == Person.id)
    return db.session.execute(query.where(Account.username == GUARDIAN)).scalar_one()


def restrict(services: Services, student_id: str) -> None:
    """Staff restrict the demo guardian's rights to one student (access ends everywhere)."""
    services.staff.restrict_guardian(
        guardian().sis_person_id, student_id, STAFF, RESTRICTION_REASON
    )


def worker_once(app: Flask) -> str:
    """`idp worker --once`; its report line."""
    result = app.test_cli_runner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def backchannel_to(client_id: str) -> list[OutboxMessage]:
    """The back-channel logout messages queued for one app, oldest first."""
    db.session.expire_all()
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.template == "backchannel_logout")
        .order_by(OutboxMessage.id)
    )
    return [m for m in db.session.execute(query).scalars() if m.context["client_id"] == client_id]
