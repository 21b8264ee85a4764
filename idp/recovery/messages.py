"""Recovery emails: the reset link and a new staff account's "choose your password" link are
signed when the message is sent (never stored)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountState
from idp.notifications.models import OutboxMessage
from idp.recovery.service import (
    CHANGED_EMAIL,
    NEW_STAFF_EMAIL,
    NEW_STAFF_PURPOSE,
    RESET_EMAIL,
    RESET_PURPOSE,
    password_fingerprint,
)
from idp.registration.messages import EmailLinks, greeting


class RecoveryMessages:
    """Preparers for the outbox mailer (context, or None to skip)."""

    def __init__(self, session: Session, links: EmailLinks, reset_link_minutes: int) -> None:
        self._session = session
        self._links = links
        self._minutes = reset_link_minutes

    def preparers(self) -> dict[str, Any]:
        """Template name -> preparer."""
        return {
            RESET_EMAIL: self.prepare_reset,
            CHANGED_EMAIL: self.prepare_changed,
            NEW_STAFF_EMAIL: self.prepare_set_password,
        }

    def prepare_reset(self, message: OutboxMessage) -> Mapping[str, Any] | None:
        """A link bound to the current password: a later change makes it useless."""
        account = self._active(message)
        if account is None:
            return None
        token = self._links.signer.make(account.id, RESET_PURPOSE, password_fingerprint(account))
        base = self._links.base_url.rstrip("/")
        return {
            **greeting(self._session, account),
            "reset_url": f"{base}/reset-password?token={token}",
            "link_minutes": self._minutes,
        }

    def prepare_set_password(self, message: OutboxMessage) -> Mapping[str, Any] | None:
        """A new staff account's one-time link, bound to its having no password: once one is
        chosen, the link is dead (and a message still queued is not sent)."""
        account = self._active(message)
        if account is None or account.password_hash is not None:
            return None
        fingerprint = password_fingerprint(account)
        token = self._links.signer.make(account.id, NEW_STAFF_PURPOSE, fingerprint)
        base = self._links.base_url.rstrip("/")
        return {
            **greeting(self._session, account),
            "set_password_url": f"{base}/set-password?token={token}",
            "link_hours": self._links.policy.email_link_hours,
        }

    def prepare_changed(self, message: OutboxMessage) -> Mapping[str, Any] | None:
        """The notice goes whatever the state: it is how an owner learns of a takeover."""
        account = self._session.get(Account, message.account_id) if message.account_id else None
        if account is None or account.email is None:
            return None
        base = self._links.base_url.rstrip("/")
        return {**greeting(self._session, account), "sign_in_url": f"{base}/sign-in"}

    def _active(self, message: OutboxMessage) -> Account | None:
        account = self._session.get(Account, message.account_id) if message.account_id else None
        if account is None or account.state != AccountState.ACTIVE or account.email is None:
            return None
        return account
