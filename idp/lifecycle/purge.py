"""Purging a deleted account's personal data, in bulk (DESIGN.md 4: 13 months -> deleted).

What stays is a tombstone: the account row with its random `sub`, kind, state and dates, so
`sub` is never given to anyone else; audit events (ids only) stay too. Everything that names
or reaches the person goes: username (kept from reuse only as a digest, if the policy says
so), email, password hash, security answers, preferences, roster link, browser and SSO
sessions, codes, tokens, consents, queued or sent emails, the legacy IC credential, and the
terms of the staff desk's search index (idp/staff/search_models.py).

Access ends first, through the one path (DESIGN.md 7): the apps the account's live sessions
signed in to are sent a back-channel logout token (it names only the tombstone's `sub` and
the session's `sid`), and an `oidc:access:ended` event is written for each account.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Delete, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from idp.accounts.models import Account, ReservedUsername, username_digest
from idp.batches import chunks
from idp.bridge.models import LegacyCredential
from idp.credentials.models import SecurityAnswer
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.oidc.models import AuthorizationCode, Consent, OAuthToken, SsoSession, SsoSessionClient
from idp.policy import UsernamePolicy
from idp.staff.search_models import forget_accounts

# LogoutService.end_access_many(account_ids, reason): the one path that ends access.
EndAccessMany = Callable[[Sequence[int], str], None]
DELETED_REASON = "deleted"  # the reason of their `oidc:access:ended` events


class AccountPurge:
    """Turns deleted accounts into tombstones."""

    def __init__(
        self, session: Session, usernames: UsernamePolicy, end_access_many: EndAccessMany
    ) -> None:
        self._session = session
        self._usernames = usernames
        self._end_access_many = end_access_many

    def purge(self, ids: Sequence[int], usernames: Sequence[str], as_of: datetime) -> None:
        """Purge the accounts `ids`, reserving `usernames` when the policy says so."""
        if self._usernames.is_reserved_after_deletion and usernames:
            self._reserve(usernames, as_of)
        for chunk in chunks(ids):
            self._purge_chunk(chunk)

    def _reserve(self, usernames: Sequence[str], as_of: datetime) -> None:
        rows = [{"digest": username_digest(name), "reserved_at": as_of} for name in usernames]
        table: Table = ReservedUsername.__table__
        dialect = self._session.get_bind().dialect.name
        upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        self._session.execute(upsert.on_conflict_do_nothing(index_elements=["digest"]), rows)

    def _purge_chunk(self, ids: list[int]) -> None:
        # The person's queued and sent emails go before access ends, so that the back-channel
        # logout tokens the end of access queues stay (they name no personal data).
        self._delete(delete(OutboxMessage).where(OutboxMessage.account_id.in_(ids)))
        self._end_access_many(ids, DELETED_REASON)
        sessions = select(SsoSession.id).where(SsoSession.account_id.in_(ids))
        browser_sessions: Table = db.metadata.tables["browser_session"]
        for statement in (
            delete(SecurityAnswer).where(SecurityAnswer.account_id.in_(ids)),
            # Tokens name codes and SSO sessions, codes name SSO sessions: delete in that order.
            delete(OAuthToken).where(OAuthToken.account_id.in_(ids)),
            delete(AuthorizationCode).where(AuthorizationCode.account_id.in_(ids)),
            delete(SsoSessionClient).where(SsoSessionClient.sso_session_id.in_(sessions)),
            delete(SsoSession).where(SsoSession.account_id.in_(ids)),
            delete(Consent).where(Consent.account_id.in_(ids)),
            delete(browser_sessions).where(browser_sessions.c.account_id.in_(ids)),
            delete(LegacyCredential).where(LegacyCredential.account_id.in_(ids)),
        ):
            self._delete(statement)
        # The staff desk's search index: the terms their usernames, emails and links gave.
        forget_accounts(self._session.connection(), ids)
        self._session.execute(
            update(Account)
            .where(Account.id.in_(ids))
            .values(
                username=None,
                email=None,
                email_key=None,
                email_verified_at=None,
                password_hash=None,
                person_id=None,
                locale="en",
                communication_channel="email",
                communication_topics=[],
            )
            .execution_options(synchronize_session=False)
        )

    def _delete(self, statement: Delete) -> None:
        self._session.execute(statement.execution_options(synchronize_session=False))
