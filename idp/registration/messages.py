"""Registration emails: what is queued (no secrets) and what is added when it is sent.

The outbox row holds only the account id. The confirmation link is signed when the message is
sent, so no live token ever rests in the database, and a message for an account that moved on
(confirmed, removed) is not sent at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.links import SignedLinks
from idp.accounts.models import RELEASED_STATES, Account, AccountState
from idp.accounts.rules import email_key
from idp.audit.models import AuditEvent
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.notifications.models import OutboxMessage
from idp.notifications.outbox import Outbox
from idp.policy import RegistrationPolicy
from idp.roster.models import Person

VERIFY_EMAIL = "verify_email"
ACCOUNT_READY = "account_ready"
USERNAME_REMINDER = "username_reminder"
VERIFY_PURPOSE = "verify_email"
# One username reminder per address in this window, however often the form is sent.
REMINDER_INTERVAL_MINUTES = 10
REMINDER_SENT = "registration:username_reminder:sent"


@dataclass(frozen=True)
class VerifyLink:
    """Where the confirmation link of another flow (the IC bridge's upgrade) leads."""

    path: str  # the page, e.g. /upgrade/verify-email
    purpose: str  # the signed link's purpose: a link of one flow is useless in the other
    username: str | None = None  # shown in the email when the account gets it only then


# Another flow that sends the same confirmation email: its VerifyLink for an account of that
# flow, None for any other account.
VerifyRoute = Callable[[Account], VerifyLink | None]


def is_waiting_for_email(account: Account) -> bool:
    """A registration still waiting for its confirmation link: the only one it is sent to."""
    return account.state == AccountState.PENDING_EMAIL and account.email is not None


def is_ready_to_use(account: Account) -> bool:
    """An account "your account is ready" may be sent to: active, with an email."""
    return account.state == AccountState.ACTIVE and account.email is not None


def has_username_to_remind(account: Account) -> bool:
    """A live account with a username and an email to send it to (a student has neither)."""
    return (
        account.state not in RELEASED_STATES
        and account.username is not None
        and account.email is not None
    )


def send_verify_email(outbox: Outbox, account: Account) -> None:
    """Queue the "confirm your email" message (the link is made at sending time)."""
    assert account.email is not None  # noqa: S101 - guardians always register with an email
    outbox.enqueue(VERIFY_EMAIL, account.email, {}, locale=account.locale, account_id=account.id)


def send_account_ready(outbox: Outbox, account: Account) -> None:
    """Queue the "your account is ready" message."""
    assert account.email is not None  # noqa: S101 - only accounts with an email are provisioned
    outbox.enqueue(ACCOUNT_READY, account.email, {}, locale=account.locale, account_id=account.id)


def send_username_reminder(outbox: Outbox, email: str, locale: str) -> None:
    """Queue a reminder to an address; whose username it is, is looked up at sending time."""
    outbox.enqueue(USERNAME_REMINDER, email, {}, locale=locale)


def message_account(session: Session, message: OutboxMessage) -> Account | None:
    """The account an outbox message was queued for, if it still has an email to send to."""
    if message.account_id is None:
        return None
    account = session.get(Account, message.account_id)
    if account is None or account.email is None:
        return None
    return account


def greeting(session: Session, account: Account) -> dict[str, Any]:
    """The name and username every account email starts with."""
    person = session.get(Person, account.person_id) if account.person_id else None
    name = f"{person.given_name} {person.family_name}" if person else ""
    return {"display_name": name, "username": account.username or ""}


@dataclass(frozen=True)
class EmailLinks:
    """How emailed links are made: the signer, their lifetimes, the provider's public URL."""

    signer: SignedLinks
    policy: RegistrationPolicy
    base_url: str


class RegistrationMessages:
    """Preparers for the outbox mailer: the context of each message, or None to skip it."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        links: EmailLinks,
        audit: AuditLog,
        verify_routes: Sequence[VerifyRoute] = (),
    ) -> None:
        """`verify_routes` let another flow's accounts get that flow's confirmation link
        (resends included): the IC upgrade's."""
        self._session = session
        self._clock = clock
        self._links = links.signer
        self._policy = links.policy
        self._base_url = links.base_url.rstrip("/")
        self._audit = audit
        self._verify_routes = tuple(verify_routes)

    def preparers(self) -> dict[str, Any]:
        """Template name -> preparer, for the mailer."""
        return {
            VERIFY_EMAIL: self.prepare_verify_email,
            ACCOUNT_READY: self.prepare_account_ready,
            USERNAME_REMINDER: self.prepare_username_reminder,
        }

    def prepare_verify_email(self, message: OutboxMessage) -> Mapping[str, Any] | None:
        """A fresh signed link, while the registration still waits for it."""
        account = self._account(message)
        if account is None or not is_waiting_for_email(account):
            return None
        link = self._verify_link(account)
        token = self._links.make(account.id, link.purpose)
        context = {
            **greeting(self._session, account),
            "verify_url": f"{self._base_url}{link.path}?token={token}",
            "link_hours": self._policy.email_link_hours,
        }
        if link.username:
            context["username"] = link.username
        return context

    def prepare_account_ready(self, message: OutboxMessage) -> Mapping[str, Any] | None:
        """Tell the guardian the account can be used (only if it still can)."""
        account = self._account(message)
        if account is None or not is_ready_to_use(account):
            return None
        return {**greeting(self._session, account), "sign_in_url": f"{self._base_url}/sign-in"}

    def prepare_username_reminder(self, message: OutboxMessage) -> Mapping[str, Any] | None:
        """The username of the live account holding this address, at most once per window."""
        account = self._session.execute(
            select(Account).where(
                Account.email_key == email_key(message.recipient),
                Account.state.not_in(RELEASED_STATES),
                Account.username.is_not(None),
            )
        ).scalar_one_or_none()
        if account is None or self._reminded_recently(account):
            return None
        self._audit.record(REMINDER_SENT, subject_id=account.id)
        return {**greeting(self._session, account), "sign_in_url": f"{self._base_url}/sign-in"}

    def _verify_link(self, account: Account) -> VerifyLink:
        for route in self._verify_routes:
            found = route(account)
            if found is not None:
                return found
        return VerifyLink("/verify-email", VERIFY_PURPOSE)

    def _account(self, message: OutboxMessage) -> Account | None:
        return message_account(self._session, message)

    def _reminded_recently(self, account: Account) -> bool:
        """A reminder was really sent (not skipped) to this account within the window."""
        since = self._clock.now() - timedelta(minutes=REMINDER_INTERVAL_MINUTES)
        query = select(AuditEvent.id).where(
            AuditEvent.event == REMINDER_SENT,
            AuditEvent.subject_account_id == account.id,
            AuditEvent.occurred_at >= since,
        )
        return self._session.execute(query.limit(1)).first() is not None
