"""A real `idp worker` process killed (SIGKILL) mid-batch loses no message: the next worker
delivers the rest, and the one message in flight at the kill once its lease has run out (it
may be delivered twice: at least once, never lost)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.accounts.models import AccountKind, AccountState
from idp.accounts.service import NewAccount
from idp.cli import main
from idp.clock import FrozenClock
from idp.config import Settings, SmtpSettings
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.notifications.outbox import RetryPolicy
from idp.registration.messages import send_account_ready
from idp.services import Services
from tests.smtp import SmtpSink

IDP = str(Path(sys.executable).parent / "idp")
MESSAGES = 30


@pytest.fixture
def settings(settings: Settings, smtp_sink: SmtpSink) -> Settings:
    """The in-process worker delivers to the same SMTP server as the killed one."""
    return replace(
        settings, smtp=SmtpSettings(host="127.0.0.1", port=smtp_sink.port, security="plain")
    )


def _queue_ready_messages(services: Services) -> set[str]:
    recipients = set()
    for number in range(MESSAGES):
        account = services.accounts.create(
            NewAccount(
                kind=AccountKind.GUARDIAN,
                state=AccountState.ACTIVE,
                username=f"guardian{number:04d}",
                email=f"g{number}@example.org",
            )
        )
        send_account_ready(services.outbox, account)
        recipients.add(f"g{number}@example.org")
    db.session.commit()
    return recipients


def _worker_process(
    settings: Settings, smtp_sink: SmtpSink, tmp_path: Path
) -> subprocess.Popen[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
    environ |= {
        "IDP_ENV": "test",
        "IDP_DATABASE_URL": settings.database_url,
        "IDP_SECRET_KEY": settings.secret_key,
        "IDP_KEY_ENCRYPTION_KEY": settings.key_encryption_key,
        "IDP_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "IDP_SMTP_HOST": "127.0.0.1",
        "IDP_SMTP_PORT": str(smtp_sink.port),
        "IDP_SMTP_SECURITY": "plain",
    }
    return subprocess.Popen(
        [IDP, "worker", "--interval", "1"],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _wait_for(smtp_sink: SmtpSink, count: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while len(smtp_sink.messages) < count:
        assert time.monotonic() < deadline, f"only {len(smtp_sink.messages)} messages arrived"
        time.sleep(0.02)


def _not_sent() -> int:
    query = select(func.count(OutboxMessage.id)).where(OutboxMessage.status != "sent")
    return int(db.session.execute(query).scalar_one())


def test_killed_worker_loses_nothing_and_repeats_at_most_the_message_in_flight(
    app: Flask,
    services: Services,
    settings: Settings,
    smtp_sink: SmtpSink,
    tmp_path: Path,
    clock: FrozenClock,
) -> None:
    recipients = _queue_ready_messages(services)
    smtp_sink.delay_seconds = 0.05
    process = _worker_process(settings, smtp_sink, tmp_path)
    try:
        _wait_for(smtp_sink, 8)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    smtp_sink.delay_seconds = 0.0
    received_at_kill = len(smtp_sink.messages)
    runner = app.test_cli_runner()

    # The killed process leased with the wall clock: the in-process worker runs on it too.
    clock.set(datetime.now(UTC))  # noqa: TID251 - aligning the frozen clock with the killed one
    at_once = runner.invoke(main, ["worker", "--once"])
    in_flight = _not_sent()
    clock.advance(seconds=RetryPolicy().lease_seconds)
    after_the_lease = runner.invoke(main, ["worker", "--once"])

    delivered = [message["To"] for message in smtp_sink.messages]
    assert (at_once.exit_code, after_the_lease.exit_code) == (0, 0), at_once.output
    assert received_at_kill < MESSAGES  # the kill really happened mid-batch
    assert in_flight <= 1  # only a message claimed at the kill waits for its lease
    assert set(delivered) == recipients
    assert len(delivered) - len(recipients) <= 1
    assert _not_sent() == 0
