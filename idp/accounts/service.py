"""Account use cases: create, look up, preferences, and the immutability of username and email."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from idp.accounts import preferences, rules
from idp.accounts.errors import (
    ChannelInvalidError,
    EmailImmutableError,
    EmailInUseError,
    EmailInvalidError,
    LocaleInvalidError,
    PersonAlreadyHasAccountError,
    PhoneMissingError,
    TopicInvalidError,
    UsernameImmutableError,
    UsernameInvalidError,
    UsernameTakenError,
)
from idp.accounts.models import (
    LOCALES,
    RELEASED_STATES,
    Account,
    AccountKind,
    AccountState,
    ReservedUsername,
    username_digest,
)
from idp.accounts.queries import BY_USERNAME, TOUCH_ACTIVITY
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.errors import DomainError
from idp.policy import AccountsPolicy, UsernamePolicy
from idp.roster.models import Person

# Which unique index a losing racer hit, mapped to the error the user sees.
_CONFLICTS: dict[str, type[DomainError]] = {
    "uq_account_username_lower": UsernameTakenError,
    "uq_account_email_key": EmailInUseError,
    "uq_account_person_kind": PersonAlreadyHasAccountError,
}


@dataclass(frozen=True)
class NewAccount:
    """What a new account starts with."""

    kind: AccountKind
    state: AccountState
    username: str | None = None
    email: str | None = None
    person_id: int | None = None
    password_hash: str | None = None
    locale: str = "en"


@dataclass(frozen=True)
class Preferences:
    """What the Preferences page shows: the choices, the topics on offer, and the details the
    school keeps (read-only in the portal)."""

    has_contact_preferences: bool
    channel: str
    topics: tuple[str, ...]
    locale: str
    topics_offered: tuple[str, ...]
    username: str | None
    email: str | None
    phone: str | None
    address: str | None


class AccountService:
    """Creates accounts and guards the rules the FAQ states about them."""

    def __init__(
        self, session: Session, clock: Clock, policy: AccountsPolicy, audit: AuditLog
    ) -> None:
        self._session = session
        self._clock = clock
        self._policy = policy
        self._audit = audit

    def create(self, new: NewAccount) -> Account:
        """Insert an account; a taken username/email/person gives a clean domain error."""
        username = self._checked_username(new.username)
        email = self._checked_email(new.email)
        self._refuse_known_conflicts(username, email, new)
        now = self._clock.now()
        account = Account(
            sub=rules.new_sub(),
            kind=str(new.kind),
            state=str(new.state),
            username=username,
            email=email,
            person_id=new.person_id,
            password_hash=new.password_hash,
            locale=new.locale,
            communication_channel="email",
            communication_topics=self._default_topics(new.kind),
            created_at=now,
            state_changed_at=now,
        )
        self._insert(account)
        self._audit.record("accounts:account:created", subject_id=account.id, kind=account.kind)
        return account

    @property
    def username_policy(self) -> UsernamePolicy:
        """The username rule (length) of accounts.toml."""
        return self._policy.usernames

    def get(self, account_id: int) -> Account | None:
        """The account with this id, if any."""
        return self._session.get(Account, account_id)

    def touch_activity(self, account: Account, now: datetime) -> None:
        """Record that the account was used at `now`: a plain UPDATE, and the loaded object
        takes the value without being marked changed (no second write, no reload)."""
        self._session.connection().execute(TOUCH_ACTIVITY, {"owner_id": account.id, "now": now})
        set_committed_value(account, "last_activity_at", now)

    def find_by_username(self, username: str) -> Account | None:
        """The account holding this username, compared without case."""
        params = {"username": rules.username_key(username)}
        return self._session.execute(BY_USERNAME, params).scalar_one_or_none()

    def is_username_taken(self, username: str) -> bool:
        """True if any account (in any state) holds this username, compared without case, or a
        deleted account held it and the policy reserves it."""
        if self.find_by_username(username) is not None:
            return True
        return self._session.get(ReservedUsername, username_digest(username)) is not None

    def is_email_in_use(self, email: str) -> bool:
        """True if a live account holds this email, compared without case."""
        query = select(Account.id).where(
            Account.email_key == rules.email_key(email),
            Account.state.not_in(RELEASED_STATES),
        )
        return self._session.execute(query.limit(1)).first() is not None

    def purge_unconfirmed(self, account: Account) -> None:
        """Remove a registration that never confirmed its email: its username and email are
        free again (the database triggers allow purging them, never changing them)."""
        account.state = AccountState.REMOVED
        account.state_changed_at = self._clock.now()
        account.username = None
        account.email = None
        account.password_hash = None
        self._session.flush()

    def set_username(self, account: Account, username: str) -> None:
        """Give a username to an account that has none (legacy upgrade); never change one."""
        if account.username is not None:
            raise UsernameImmutableError
        checked = self._checked_username(username)
        if self.is_username_taken(username):
            raise UsernameTakenError
        self._flush_guarded(lambda: setattr(account, "username", checked))

    def set_email(self, account: Account, email: str) -> None:
        """Give an email to an account that has none (legacy upgrade); never change one."""
        if account.email is not None:
            raise EmailImmutableError
        checked = self._checked_email(email)
        if checked is not None and self.is_email_in_use(checked):
            raise EmailInUseError
        self._flush_guarded(lambda: setattr(account, "email", checked))

    def preferences(self, account: Account) -> Preferences:
        """The account's preferences and the contact details the school has on file."""
        person = self._person_of(account)
        return Preferences(
            has_contact_preferences=preferences.has_contact_preferences(account.kind),
            channel=account.communication_channel,
            topics=tuple(account.communication_topics),
            locale=account.locale,
            topics_offered=self._policy.communication.topics,
            username=account.username,
            email=account.email,
            phone=person.phone if person else None,
            address=person.address if person else None,
        )

    def update_preferences(
        self, account: Account, channel: str, topics: Sequence[str], locale: str
    ) -> None:
        """Save how and about what the school contacts the account, and its language; all or
        nothing. A student has no contact preferences: only its language is saved."""
        changes: dict[str, object] = {}
        if preferences.has_contact_preferences(account.kind):
            changes["communication_channel"] = self._checked_channel(account, channel)
            changes["communication_topics"] = self._checked_topics(topics)
        if locale not in LOCALES:
            raise LocaleInvalidError
        changes["locale"] = locale
        changed = [name for name, value in changes.items() if getattr(account, name) != value]
        for name in changed:
            setattr(account, name, changes[name])
        if changed:
            # Field names only: the values are the person's own business (STYLE.md 4).
            self._audit.record(
                "accounts:preferences:changed",
                actor_id=account.id,
                subject_id=account.id,
                fields=changed,
            )

    def _checked_channel(self, account: Account, channel: str) -> str:
        if channel not in preferences.CHANNELS:
            raise ChannelInvalidError
        person = self._person_of(account)
        # Texts go to the phone number the school has on file; the portal cannot add one.
        if channel in preferences.TEXT_CHANNELS and not (person and person.phone):
            raise PhoneMissingError
        return channel

    def _checked_topics(self, topics: Sequence[str]) -> list[str]:
        offered = self._policy.communication.topics
        if not set(topics) <= set(offered):
            raise TopicInvalidError
        return preferences.ordered_topics(topics, offered)

    def _default_topics(self, kind: AccountKind) -> list[str]:
        # accounts.toml [communication] default_topics; students choose no topics.
        if not preferences.has_contact_preferences(kind):
            return []
        return list(self._policy.communication.default_topics)

    def _person_of(self, account: Account) -> Person | None:
        return self._session.get(Person, account.person_id) if account.person_id else None

    def _checked_username(self, username: str | None) -> str | None:
        if username is None:
            return None
        usernames = self._policy.usernames
        if not rules.is_valid_username(username, usernames.min_length, usernames.max_length):
            raise UsernameInvalidError(min=usernames.min_length, max=usernames.max_length)
        return username

    def _checked_email(self, email: str | None) -> str | None:
        if email is None:
            return None
        email = rules.normalize_email(email)
        if not rules.is_valid_email(email, self._policy.emails.max_length):
            raise EmailInvalidError
        return email

    def _refuse_known_conflicts(
        self, username: str | None, email: str | None, new: NewAccount
    ) -> None:
        if username is not None and self.is_username_taken(username):
            raise UsernameTakenError
        if email is not None and self.is_email_in_use(email):
            raise EmailInUseError
        if new.person_id is not None:
            query = select(Account.id).where(
                Account.person_id == new.person_id,
                Account.kind == str(new.kind),
                Account.state.not_in(RELEASED_STATES),
            )
            if self._session.execute(query.limit(1)).first() is not None:
                raise PersonAlreadyHasAccountError

    def _insert(self, account: Account) -> None:
        self._flush_guarded(lambda: self._session.add(account))

    def _flush_guarded(self, change: Callable[[], None]) -> None:
        """Apply and flush in a savepoint; a racer that lost on a unique index gets the error."""
        try:
            with self._session.begin_nested():
                change()
                self._session.flush()
        except IntegrityError as exc:
            raise _conflict_error(exc) from None


def _conflict_error(exc: IntegrityError) -> DomainError:
    detail = str(exc.orig)
    for index_name, error in _CONFLICTS.items():
        if index_name in detail:
            return error()
    raise exc
