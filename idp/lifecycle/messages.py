"""Lifecycle emails: inactivity warnings and the link that turns a disabled account back on.

Rows hold only the account id; dates and links are made when the message is sent. A warning
to someone who signed in after it was queued is not sent at all: it would be wrong by then.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from babel.dates import format_date
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountState
from idp.lifecycle.rules import DELETABLE_STATES, deletion_due_at, disable_due_at, idle_since
from idp.lifecycle.sweep import DELETE_WARNING, DISABLE_WARNING
from idp.notifications.models import OutboxMessage
from idp.notifications.outbox import Outbox
from idp.policy import InactivityPolicy
from idp.registration.messages import EmailLinks, greeting, message_account

REVALIDATE_EMAIL = "revalidate_email"
REVALIDATE_PURPOSE = "revalidate_email"
CANCELLED_EMAIL = "account_cancelled"


def send_cancelled_email(outbox: Outbox, account: Account) -> None:
    """Queue "the school cancelled your account", and what to do next (FAQ: a new key from
    the school, then register again, with the same or a new email)."""
    if account.email is None:
        return  # a student without an email: the school tells them in person
    outbox.enqueue(CANCELLED_EMAIL, account.email, {}, locale=account.locale, account_id=account.id)


def send_revalidate_email(outbox: Outbox, account: Account) -> None:
    """Queue the "turn your account back on" message (its link is made at sending time)."""
    assert account.email is not None  # noqa: S101 - only accounts with an email are sent one
    outbox.enqueue(
        REVALIDATE_EMAIL, account.email, {}, locale=account.locale, account_id=account.id
    )


def disabled_mark(account: Account) -> str:
    """What a revalidation link is bound to: this disabling, not an earlier one."""
    return str(int(account.state_changed_at.timestamp()))


class LifecycleMessages:
    """Preparers for the outbox mailer: each message's context, or None to skip it."""

    def __init__(self, session: Session, links: EmailLinks, policy: InactivityPolicy) -> None:
        self._session = session
        self._links = links
        self._policy = policy
        self._base_url = links.base_url.rstrip("/")

    def preparers(self) -> dict[str, Any]:
        """Template name -> preparer, for the mailer."""
        return {
            DISABLE_WARNING: self.prepare_disable_warning,
            DELETE_WARNING: self.prepare_delete_warning,
            REVALIDATE_EMAIL: self.prepare_revalidate_email,
            CANCELLED_EMAIL: self.prepare_cancelled,
        }

    def prepare_disable_warning(self, message: OutboxMessage) -> Mapping[str, Any] | None:
        """The day the account will be turned off, while that is still what will happen."""
        account = message_account(self._session, message)
        if account is None or account.state != AccountState.ACTIVE:
            return None
        on = disable_due_at(idle_since(account), self._policy)
        return self._warning(account, message, on)

    def prepare_delete_warning(self, message: OutboxMessage) -> Mapping[str, Any] | None:
        """The day the account will be deleted, while that is still what will happen."""
        account = message_account(self._session, message)
        if account is None or account.state not in DELETABLE_STATES:
            return None
        # This message is the idle period's deletion warning (_warning skips it otherwise).
        on = deletion_due_at(idle_since(account), message.created_at, self._policy)
        return self._warning(account, message, on)

    def prepare_revalidate_email(self, message: OutboxMessage) -> Mapping[str, Any] | None:
        """A fresh signed link, while the account is still disabled."""
        account = message_account(self._session, message)
        if account is None or account.state != AccountState.DISABLED:
            return None
        token = self._links.signer.make(account.id, REVALIDATE_PURPOSE, disabled_mark(account))
        return {
            **greeting(self._session, account),
            "revalidate_url": f"{self._base_url}/revalidate?token={token}",
            "link_hours": self._links.policy.email_link_hours,
        }

    def prepare_cancelled(self, message: OutboxMessage) -> Mapping[str, Any] | None:
        """The cancellation notice, while the account is still cancelled (its email then
        belongs to nobody else yet: a registration with it starts as a new account)."""
        account = message_account(self._session, message)
        if account is None or account.state != AccountState.CANCELLED:
            return None
        return {**greeting(self._session, account), "register_url": f"{self._base_url}/register"}

    def _warning(
        self, account: Account, message: OutboxMessage, on: datetime
    ) -> Mapping[str, Any] | None:
        if idle_since(account) >= message.created_at:
            return None  # used again since the warning was queued
        return {
            **greeting(self._session, account),
            "on_date": format_date(on.date(), format="long", locale=message.locale),
            "sign_in_url": f"{self._base_url}/sign-in",
        }
