"""Outbox delivery: at least once, backoff, dead letters, never twice with two workers, no
transaction open while a message is sent, and one recorded result per claim."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.clock import FrozenClock
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.notifications.outbox import (
    Delivery,
    DeliveryError,
    DeliveryReport,
    OutboxWorker,
    RetryPolicy,
)
from idp.services import Services


def _enqueue(services: Services, count: int = 1) -> None:
    for number in range(count):
        services.outbox.enqueue("test_message", f"r{number}@example.org", {"n": number})
    db.session.commit()


def _worker(clock: FrozenClock, sender: object, session: Session | None = None) -> OutboxWorker:
    return OutboxWorker(
        session or db.session, clock, {"test_message": sender}, RetryPolicy(max_attempts=3)
    )


def test_delivers_a_pending_message_and_marks_it_sent(
    services: Services, clock: FrozenClock
) -> None:
    _enqueue(services)
    delivered: list[str] = []

    report = _worker(clock, lambda message: delivered.append(message.recipient)).deliver_due()

    row = db.session.execute(select(OutboxMessage)).scalar_one()
    assert report.sent == 1
    assert delivered == ["r0@example.org"]
    assert (row.status, row.sent_at, row.attempts) == ("sent", clock.now(), 1)


def test_no_transaction_is_open_while_a_message_is_sent(
    services: Services, clock: FrozenClock
) -> None:
    _enqueue(services)
    in_transaction: list[bool] = []

    def sender(message: OutboxMessage) -> Delivery:
        in_transaction.append(db.session().in_transaction())  # reading what it needs
        return lambda: in_transaction.append(db.session().in_transaction())  # the network I/O

    report = _worker(clock, sender).deliver_due()

    assert report.sent == 1
    assert in_transaction == [True, False]


def test_a_send_that_outlives_its_lease_does_not_overwrite_the_next_workers_result(
    services: Services, clock: FrozenClock
) -> None:
    _enqueue(services)
    second_reports: list[DeliveryReport] = []

    def outliving_its_lease(message: OutboxMessage) -> Delivery:
        def deliver() -> None:
            clock.advance(seconds=RetryPolicy().lease_seconds)
            with Session(db.engine) as session:  # another worker claims it again, and sends
                second_reports.append(_worker(clock, _sending, session).deliver_due())
            raise DeliveryError("unreachable")  # the first send times out after all

        return deliver

    first = _worker(clock, outliving_its_lease).deliver_due()

    row = db.session.execute(select(OutboxMessage)).scalar_one()
    assert (first.sent, first.retried, first.dead) == (0, 0, 0)  # its result was not recorded
    assert second_reports == [DeliveryReport(sent=1)]
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def _sending(message: OutboxMessage) -> Delivery:
    return lambda: None


def _failing(message: OutboxMessage) -> None:
    raise DeliveryError("unreachable")


def test_failure_is_retried_later_with_backoff(services: Services, clock: FrozenClock) -> None:
    _enqueue(services)
    worker = _worker(clock, _failing)

    first = worker.deliver_due()
    again_too_soon = worker.deliver_due()

    row = db.session.execute(select(OutboxMessage)).scalar_one()
    assert (first.retried, again_too_soon.retried) == (1, 0)
    assert row.status == "pending"
    assert row.available_at == clock.now() + timedelta(seconds=30)
    assert row.last_error == "unreachable"


def test_message_is_dead_after_the_last_attempt(services: Services, clock: FrozenClock) -> None:
    _enqueue(services)
    worker = _worker(clock, _failing)
    reports = []
    for _ in range(3):
        reports.append(worker.deliver_due())
        clock.advance(hours=2)

    row = db.session.execute(select(OutboxMessage)).scalar_one()
    assert [report.dead for report in reports] == [0, 0, 1]
    assert (row.status, row.attempts) == ("dead", 3)


def _refused_for_good(message: OutboxMessage) -> None:
    raise DeliveryError("smtp_rcpt_550", permanent=True)


def test_permanent_failure_is_dead_at_once(services: Services, clock: FrozenClock) -> None:
    _enqueue(services)

    report = _worker(clock, _refused_for_good).deliver_due()

    row = db.session.execute(select(OutboxMessage)).scalar_one()
    assert (report.sent, report.retried, report.dead) == (0, 0, 1)
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, "smtp_rcpt_550")
    assert row.sent_at is None


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_seconds=30, max_delay_seconds=3600)

    delays = [policy.delay(attempt).total_seconds() for attempt in range(1, 9)]

    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600]


def test_messages_of_other_kinds_are_left_for_their_worker(
    services: Services, clock: FrozenClock
) -> None:
    services.outbox.enqueue("other_kind", "x@example.org", {})
    db.session.commit()

    report = _worker(clock, lambda message: None).deliver_due()

    assert report.sent == 0


@pytest.mark.postgresql_only
def test_two_workers_never_deliver_the_same_message_twice(
    app: Flask, services: Services, clock: FrozenClock
) -> None:
    _enqueue(services, count=40)
    delivered: list[int] = []
    lock = threading.Lock()

    def record(message: OutboxMessage) -> None:
        with lock:
            delivered.append(message.id)

    def run() -> None:
        with app.app_context(), Session(db.engine) as session:
            _worker(clock, record, session).deliver_due(limit=100)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(delivered) == sorted(set(delivered))
    assert len(delivered) == 40


class _WorkerKilledError(BaseException):
    """Not an Exception: as a SIGKILL, nothing in the worker handles it."""


def _crashing(message: OutboxMessage) -> None:
    raise RuntimeError(f"a bug in a sender, quoting {message.recipient}")


def test_a_sender_that_crashes_is_retried_and_the_worker_goes_on(
    services: Services, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in one sender is a failed attempt of its message, not the end of the worker."""
    _enqueue(services, count=2)

    report = _worker(clock, _crashing).deliver_due()

    rows = db.session.execute(select(OutboxMessage)).scalars().all()
    assert report.retried == 2
    assert [(row.status, row.attempts, row.last_error) for row in rows] == [
        ("pending", 1, "sender_crashed"),
        ("pending", 1, "sender_crashed"),
    ]
    assert "notifications:message:crashed" in caplog.text
    assert "error=RuntimeError at=test_outbox.py:" in caplog.text
    assert "@example.org" not in caplog.text


def test_a_message_whose_worker_dies_at_every_attempt_is_dead_after_the_last(
    services: Services, clock: FrozenClock
) -> None:
    """A worker killed while it sends (out of memory, say) records nothing: the message comes
    back when the lease ends. After max_attempts such claims it is dead, not tried forever."""
    _enqueue(services)
    policy = RetryPolicy(max_attempts=3)

    def killed(message: OutboxMessage) -> Delivery:
        raise _WorkerKilledError  # stands for the process dying: nothing is recorded

    worker = OutboxWorker(db.session, clock, {"test_message": killed}, policy)
    for _ in range(policy.max_attempts):
        with pytest.raises(_WorkerKilledError):
            worker.deliver_due()
        clock.advance(seconds=policy.lease_seconds)
    last = worker.deliver_due()

    row = db.session.execute(select(OutboxMessage)).scalar_one()
    assert last.dead == 1
    assert (row.status, row.last_error) == ("dead", "abandoned")
    assert row.attempts == policy.max_attempts + 1
