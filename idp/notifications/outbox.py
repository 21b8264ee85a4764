"""The outbox: enqueue in the caller's transaction; deliver at least once, with backoff.

A delivery never holds a transaction across network I/O (issue 21): an app that calls the
provider back while handling a back-channel logout must not wait for the worker's lock.

1. Claim: one guarded `UPDATE ... RETURNING` counts the attempt and leases the message (its
   `available_at` moves `lease_seconds` ahead), then commits. Another worker skips it while the
   lease runs (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite runs one worker), and the message
   of a worker that died comes back when the lease ends; claimed once more than `max_attempts`
   with no result recorded, it is dead ("abandoned") instead of being tried for ever.
2. Prepare: the message's sender reads what it needs (client, signing key, account, template)
   in a short transaction, which ends, and returns a `Delivery` that only does the I/O.
3. Send, with no transaction open.
4. Record: sent, retry with backoff, or dead, in one more short transaction, guarded by the
   claimed attempt count, so a result is recorded once, by the worker that holds the claim.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from idp.clock import Clock
from idp.notifications.models import OutboxMessage

log = logging.getLogger("idp.notifications")
# The network I/O of one delivery, prepared beforehand: it must not touch the database.
Delivery = Callable[[], None]
# Reads what a message needs and returns its Delivery; None means there is nothing to send.
Sender = Callable[[OutboxMessage], Delivery | None]


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
    """Exponential backoff: base * 2^(attempt-1), capped; dead after max_attempts.

    `lease_seconds` is how long a claimed message is left to its worker before another may take
    it: longer than any delivery can take (a back-channel POST gives up after 5 s, an SMTP
    conversation after a few IDP_SMTP_TIMEOUT_SECONDS), and how long the message in flight
    when a worker dies waits before it is tried again."""

    base_seconds: int = 30
    max_delay_seconds: int = 3600
    max_attempts: int = 8
    lease_seconds: int = 300

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


@dataclass(frozen=True)
class _Claim:
    """A message this worker leased: whose result it records, if it still holds the claim."""

    id: int
    template: str
    attempts: int


@dataclass(frozen=True)
class NewMessage:
    """One message of `Outbox.enqueue_many` (no secrets in `context`)."""

    recipient: str
    context: Mapping[str, Any] = field(default_factory=dict)
    locale: str = "en"
    account_id: int | None = None


def _fresh(template: str, at: datetime) -> dict[str, Any]:
    """What every new message starts as, however it is written: pending, due at once."""
    return {
        "template": template,
        "status": "pending",
        "attempts": 0,
        "created_at": at,
        "available_at": at,
    }


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
        message = OutboxMessage(
            **_fresh(template, self._clock.now()),
            recipient=recipient,
            locale=locale,
            context=dict(context),
            account_id=account_id,
        )
        self._session.add(message)
        return message

    def enqueue_many(self, template: str, messages: Sequence[NewMessage]) -> None:
        """Add many messages of one template to the current transaction, in one statement."""
        if not messages:
            return
        fresh = _fresh(template, self._clock.now())
        rows = [
            {
                **fresh,
                "recipient": message.recipient,
                "locale": message.locale,
                "context": dict(message.context),
                "account_id": message.account_id,
            }
            for message in messages
        ]
        self._session.execute(insert(OutboxMessage), rows)

    def enqueue_from_select(
        self, template: str, source: Select[*tuple[Any, ...]], at: datetime | None = None
    ) -> None:
        """One message per row of `source`, in one INSERT ... SELECT (set-based jobs).

        `source` names its columns after the message's (`recipient`, `locale`, `account_id`,
        and `context` if not empty); `at` is the job's `as_of` (default: now)."""
        fresh = {"context": {}, **_fresh(template, at or self._clock.now())}
        names = list(source.selected_columns.keys())
        table = OutboxMessage.__table__
        constants = {name: value for name, value in fresh.items() if name not in names}
        rows = source.add_columns(
            *(literal(value, table.c[name].type).label(name) for name, value in constants.items())
        )
        self._session.execute(insert(OutboxMessage).from_select([*names, *constants], rows))


class OutboxWorker:
    """Delivers due messages through the sender registered for their template.

    The worker owns its transactions (STYLE: the edge commits): it commits after the claim,
    after the prepare and after the record, so no transaction is open while a Delivery runs.
    """

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
        """Deliver what is due now (claim, prepare, send, record, each message); the counts."""
        outcomes: list[str] = []
        for _ in range(limit):
            claim = self._claim_next()
            if claim is None:
                break
            if claim.attempts > self._retry.max_attempts:
                # Every attempt was claimed and none recorded: the worker died while sending it
                # (killed, out of memory) each time. Tried no more, so it cannot do it forever.
                outcomes.append(self._record(claim, DeliveryError("abandoned", permanent=True)))
                continue
            outcomes.append(self._record(claim, self._attempt(claim)))
        return DeliveryReport(
            sent=outcomes.count("sent"),
            retried=outcomes.count("pending"),
            dead=outcomes.count("dead"),
        )

    def _claim_next(self) -> _Claim | None:
        """Count an attempt on the next due message and lease it, in one committed UPDATE."""
        now = self._clock.now()
        due = aliased(OutboxMessage)
        next_due = (
            select(due.id)
            .where(
                due.status == "pending",
                due.available_at <= now,
                due.template.in_(list(self._senders)),
            )
            .order_by(due.available_at, due.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        row = self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == next_due)
            .values(
                attempts=OutboxMessage.attempts + 1,
                available_at=now + timedelta(seconds=self._retry.lease_seconds),
            )
            .returning(OutboxMessage.id, OutboxMessage.template, OutboxMessage.attempts)
            .execution_options(synchronize_session=False)
        ).first()
        self._session.commit()
        if row is None:
            return None
        return _Claim(id=row.id, template=row.template, attempts=row.attempts)

    def _attempt(self, claim: _Claim) -> DeliveryError | None:
        """Prepare (short transaction), then send with none open; the failure, if any."""
        try:
            delivery = self._prepare(claim)
            if delivery is not None:
                delivery()
        except DeliveryError as error:
            log.warning(
                "notifications:message:failed id=%s code=%s permanent=%s",
                claim.id,
                error.code,
                error.permanent,
            )
            return error
        except Exception as crash:
            # A bug in a sender fails this attempt; the worker goes on with the next message.
            # The class and the line that raised, never the exception's text: it may quote the
            # recipient or the message (secrets never reach the logs).
            where = traceback.extract_tb(crash.__traceback__)[-1]
            log.error(
                "notifications:message:crashed id=%s error=%s at=%s:%s",
                claim.id,
                type(crash).__name__,
                where.filename.rsplit("/", 1)[-1],
                where.lineno,
            )
            return DeliveryError("sender_crashed")
        return None

    def _prepare(self, claim: _Claim) -> Delivery | None:
        try:
            message = self._session.get(OutboxMessage, claim.id, populate_existing=True)
            delivery = self._senders[claim.template](message) if message is not None else None
        except BaseException:
            self._session.rollback()
            raise
        # Ends the reads; keeps what a sender wrote (the reminder's audit event) before the I/O.
        self._session.commit()
        return delivery

    def _record(self, claim: _Claim, error: DeliveryError | None) -> str:
        """Write the result if this worker still holds the claim; the outcome."""
        now = self._clock.now()
        values, outcome = self._result(claim, error, now)
        result = self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == claim.id,
                OutboxMessage.status == "pending",
                OutboxMessage.attempts == claim.attempts,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        self._session.commit()
        if result.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            # The lease ran out and another worker claimed it again: its result counts.
            log.warning("notifications:message:claim_lost id=%s", claim.id)
            return "claim_lost"
        return outcome

    def _result(
        self, claim: _Claim, error: DeliveryError | None, now: datetime
    ) -> tuple[dict[str, Any], str]:
        if error is None:
            return {"status": "sent", "sent_at": now, "last_error": None}, "sent"
        failed: dict[str, Any] = {"last_error": error.code[:64]}
        if error.permanent or claim.attempts >= self._retry.max_attempts:
            return {**failed, "status": "dead"}, "dead"
        return {**failed, "available_at": now + self._retry.delay(claim.attempts)}, "pending"
