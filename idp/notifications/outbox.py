"""The outbox: enqueue in the caller's transaction; deliver at least once, with backoff.

Delivery claims due messages with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers
never deliver the same message at once (SQLite runs one worker, and ignores the clause).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.notifications.models import OutboxMessage

log = logging.getLogger("idp.notifications")
Sender = Callable[[OutboxMessage], None]


class DeliveryError(Exception):
    """A delivery failed; `code` is logged and stored (never message text or secrets).

    `permanent` means trying again cannot help (an SMTP 5xx reply, a template that does not
    render): the worker marks the message dead at once instead of retrying it.
    """

    def __init__(self, code: str, *, permanent: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.permanent = permanent


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: base * 2^(attempt-1), capped; dead after max_attempts."""

    base_seconds: int = 30
    max_delay_seconds: int = 3600
    max_attempts: int = 8

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after the given number of failed attempts."""
        seconds = min(self.base_seconds * 2 ** max(attempts - 1, 0), self.max_delay_seconds)
        return timedelta(seconds=seconds)


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0


class Outbox:
    """Writes messages next to the change that causes them."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def enqueue(
        self,
        template: str,
        recipient: str,
        context: Mapping[str, Any],
        *,
        locale: str = "en",
        account_id: int | None = None,
    ) -> OutboxMessage:
        """Add a message to the current transaction (no secrets in `context`)."""
        now = self._clock.now()
        message = OutboxMessage(
            template=template,
            recipient=recipient,
            locale=locale,
            context=dict(context),
            account_id=account_id,
            status="pending",
            attempts=0,
            created_at=now,
            available_at=now,
        )
        self._session.add(message)
        return message


class OutboxWorker:
    """Delivers due messages through the sender registered for their template."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        senders: Mapping[str, Sender],
        retry: RetryPolicy | None = None,
    ) -> None:
        self._session = session
        self._clock = clock
        self._senders = senders
        self._retry = retry or RetryPolicy()

    def deliver_due(self, limit: int = 100) -> DeliveryReport:
        """Deliver what is due now (one transaction per message); return the counts."""
        sent = retried = dead = 0
        for _ in range(limit):
            message = self._claim_next()
            if message is None:
                break
            outcome = self._deliver(message)
            self._session.commit()
            sent += outcome == "sent"
            retried += outcome == "pending"
            dead += outcome == "dead"
        return DeliveryReport(sent=sent, retried=retried, dead=dead)

    def _claim_next(self) -> OutboxMessage | None:
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.available_at <= self._clock.now(),
                OutboxMessage.template.in_(list(self._senders)),
            )
            .order_by(OutboxMessage.available_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return self._session.execute(query).scalar_one_or_none()

    def _deliver(self, message: OutboxMessage) -> str:
        now = self._clock.now()
        message.attempts += 1
        try:
            self._senders[message.template](message)
        except DeliveryError as error:
            message.last_error = error.code[:64]
            log.warning(
                "notifications:message:failed id=%s code=%s permanent=%s",
                message.id,
                error.code,
                error.permanent,
            )
            if error.permanent or message.attempts >= self._retry.max_attempts:
                message.status = "dead"
            else:
                message.available_at = now + self._retry.delay(message.attempts)
            return str(message.status)
        message.status, message.sent_at, message.last_error = "sent", now, None
        return "sent"
