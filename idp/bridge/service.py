"""The Infinite Campus bridge: a legacy IC sign-in, then the FAQ's first-login upgrade.

1. Sign-in finds no portal account with the name and calls `check`: the verifier (imported
   hashes or the district's URL) decides; a right password gives a BridgedSignIn whose argon2id
   hash of the password is made in the same request (the legacy hash is verified once).
2. `start_upgrade`: email (unique), and a username when the IC one cannot be used; the account
   is created in `pending_email`, bound to the person, and the usual confirmation email is sent
   with the upgrade's own link.
3. `complete_upgrade`: the link makes the account `active` (email verified) and marks the legacy
   credential migrated. The IC account itself is never changed (the FAQ: it keeps working).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts import rules as account_rules
from idp.accounts.errors import (
    PersonAlreadyHasAccountError,
    UsernameInvalidError,
    UsernameTakenError,
)
from idp.accounts.links import SignedLinks
from idp.accounts.models import RELEASED_STATES, Account, AccountKind, AccountState
from idp.accounts.service import AccountService, NewAccount
from idp.audit.service import AuditLog
from idp.bridge import rules
from idp.bridge.errors import (
    AlreadyUpgradedError,
    BridgePersonUnknownError,
    LegacyAccountClosedError,
    UpgradeExpiredError,
    UpgradeLinkExpiredError,
    UpgradeLinkUsedError,
    UpgradeUsernameTakenError,
)
from idp.bridge.marker import BridgedSignIn
from idp.bridge.models import LegacyCredential
from idp.bridge.verifiers import LegacyVerifier
from idp.clock import Clock
from idp.credentials.hashing import SecretHasher
from idp.errors import DomainError
from idp.notifications.outbox import Outbox
from idp.registration.errors import LinkInvalidError
from idp.registration.messages import VerifyLink, send_account_ready, send_verify_email
from idp.roster.models import Person

UPGRADE_PURPOSE = "bridge_upgrade"  # the signed link's purpose: never valid as another link
UPGRADE_PATH = "/upgrade/verify-email"


@dataclass(frozen=True)
class BridgeSetup:
    """The bridge's configuration: its verifier, the link signer and the lifetimes."""

    verifier: LegacyVerifier
    links: SignedLinks
    link_hours: int  # lifecycle.toml email_link_hours, as for a registration
    # How long a right IC password in this browser carries the upgrade (and the sign-in at the
    # emailed link): long enough to read an email, short enough for a shared computer.
    upgrade_minutes: int = 30


@dataclass(frozen=True)
class UpgradeDetails:
    """What the upgrade page asks for."""

    email: str
    username: str = ""  # only read when the IC username cannot be the portal username
    locale: str = "en"


@dataclass(frozen=True)
class UpgradePage:
    """What the upgrade page shows: the IC username, and why it cannot be kept (if so)."""

    ic_username: str
    username_problem: DomainError | None = None


@dataclass(frozen=True)
class CompletedUpgrade:
    """The activated account, and whether this browser proved the password (signs in)."""

    account: Account
    is_signed_in: bool


class BridgeService:
    """Legacy IC sign-in and the upgrade to a portal account. Each upgrade step owns its
    transaction; `check` runs inside sign-in's."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        setup: BridgeSetup,
        services: tuple[AccountService, SecretHasher, Outbox, AuditLog],
    ) -> None:
        self._session = session
        self._clock = clock
        self._verifier = setup.verifier
        self._links = setup.links
        self._link_hours = setup.link_hours
        self._upgrade_for = timedelta(minutes=setup.upgrade_minutes)
        self._accounts, self._hasher, self._outbox, self._audit = services

    def check(self, login_name: str, password: str) -> BridgedSignIn | None:
        """Sign-in found no portal account with this name: None for a wrong IC username or
        password, else the proof for the upgrade. BridgeUnavailableError when the check cannot
        be made; after a right password, why this credential cannot be upgraded."""
        ic_username = login_name.strip()
        stored = self._find(ic_username)
        verdict = self._verifier.verify(ic_username, password, stored)
        if not verdict.is_valid:
            return None
        if verdict.sis_person_id is not None:
            stored = self._remote_credential(ic_username, verdict.sis_person_id, stored)
        assert stored is not None  # noqa: S101 - an imported hash matched, or the URL named one
        self._refuse_migrated(stored)
        self._refuse_person_with_account(stored)
        self._audit.record("bridge:credential:verified", credential_id=stored.id)
        return BridgedSignIn(stored.id, self._clock.now(), self._hasher.hash(password))

    def upgrade_page(self, marker: BridgedSignIn | None) -> UpgradePage:
        """The IC username, and why it cannot be the portal username (then one is chosen)."""
        credential = self._fresh_credential(marker)
        return UpgradePage(credential.ic_username, self._ic_username_problem(credential))

    def start_upgrade(self, marker: BridgedSignIn | None, details: UpgradeDetails) -> Account:
        """Create the account (`pending_email`, the re-hashed password) and send the link.
        All or nothing: a refused email or username changes nothing."""
        credential = self._fresh_credential(marker, lock=True)
        if marker is None or not marker.password_hash:
            raise UpgradeExpiredError
        self._remove_unconfirmed(credential)
        # A kept IC username is given at the link, so that signing in with it until then
        # still reaches the bridge (a wrong email, a lost link: the upgrade starts again).
        keeps_ic_name = self._ic_username_problem(credential) is None
        account = self._accounts.create(
            NewAccount(
                kind=AccountKind.GUARDIAN,
                state=AccountState.PENDING_EMAIL,
                username=None if keeps_ic_name else details.username.strip(),
                email=details.email,
                person_id=credential.person_id,
                password_hash=marker.password_hash,
                locale=details.locale,
            )
        )
        credential.account_id = account.id
        send_verify_email(self._outbox, account)
        self._audit.record(
            "bridge:upgrade:started", subject_id=account.id, credential_id=credential.id
        )
        return account

    def complete_upgrade(self, token: str, marker: BridgedSignIn | None) -> CompletedUpgrade:
        """The emailed link: the account becomes `active` and the legacy credential migrated.
        The browser that gave the IC password (recently) is signed in; any other is not."""
        reading = self._links.read(token, UPGRADE_PURPOSE, self._link_hours * 3600)
        if reading is None:
            raise LinkInvalidError
        account = self._session.get(Account, reading.account_id, with_for_update=True)
        credential = self._bound_credential(account)
        if account is None or credential is None:
            raise LinkInvalidError
        if account.state != AccountState.PENDING_EMAIL:
            raise UpgradeLinkUsedError
        if reading.is_expired:
            raise UpgradeLinkExpiredError
        self._give_ic_username(account, credential)
        now = self._clock.now()
        account.state, account.state_changed_at = AccountState.ACTIVE, now
        account.email_verified_at = credential.migrated_at = now
        is_signed_in = self._proves(marker, credential)
        if is_signed_in:
            account.last_activity_at = now
        send_account_ready(self._outbox, account)
        self._audit.record(
            "bridge:credential:migrated", subject_id=account.id, credential_id=credential.id
        )
        return CompletedUpgrade(account, is_signed_in)

    def verify_route(self, account: Account) -> VerifyLink | None:
        """For the confirmation email: an account waiting for its upgrade gets the upgrade's
        link, and the username it will have; any other account the registration's."""
        query = select(LegacyCredential.ic_username).where(
            LegacyCredential.account_id == account.id, LegacyCredential.migrated_at.is_(None)
        )
        ic_username = self._session.execute(query.limit(1)).scalar_one_or_none()
        if ic_username is None:
            return None
        return VerifyLink(UPGRADE_PATH, UPGRADE_PURPOSE, account.username or ic_username)

    def _give_ic_username(self, account: Account, credential: LegacyCredential) -> None:
        """The kept IC username becomes the account's now (it was free at the start)."""
        if account.username is not None:
            return
        try:
            self._accounts.set_username(account, credential.ic_username)
        except (UsernameTakenError, UsernameInvalidError):
            raise UpgradeUsernameTakenError(username=credential.ic_username) from None

    def _find(self, ic_username: str) -> LegacyCredential | None:
        if not ic_username:
            return None
        query = select(LegacyCredential).where(
            rules.ic_username_matches_sql(
                LegacyCredential.ic_username, rules.ic_username_key(ic_username)
            )
        )
        return self._session.execute(query).scalar_one_or_none()

    def _remote_credential(
        self, ic_username: str, sis_person_id: str, stored: LegacyCredential | None
    ) -> LegacyCredential:
        """Mode `http`: the row that records this IC username, its person and its migration."""
        person = self._guardian(sis_person_id)
        if stored is not None:
            if stored.migrated_at is None:
                stored.person_id = person.id  # the district's answer is the current one
            return stored
        row = LegacyCredential(
            ic_username=ic_username,
            person_id=person.id,
            scheme=rules.REMOTE,
            verifier="",
            imported_at=self._clock.now(),
        )
        try:
            with self._session.begin_nested():
                self._session.add(row)
                self._session.flush()
        except IntegrityError:
            # A second sign-in of the same name at the same moment made it first.
            found = self._find(ic_username)
            assert found is not None  # noqa: S101 - the unique index says it exists
            return found
        return row

    def _guardian(self, sis_person_id: str) -> Person:
        query = select(Person).where(
            Person.sis_person_id == sis_person_id, Person.role == "guardian"
        )
        person = self._session.execute(query).scalar_one_or_none()
        if person is None:
            raise BridgePersonUnknownError
        return person

    def _refuse_migrated(self, credential: LegacyCredential) -> None:
        """Only reached with the right password: naming the portal username leaks nothing."""
        if credential.migrated_at is None:
            return
        account = self._accounts.get(credential.account_id) if credential.account_id else None
        if account is None or account.username is None or account.state in RELEASED_STATES:
            raise LegacyAccountClosedError
        raise AlreadyUpgradedError(username=account.username)

    def _refuse_person_with_account(self, credential: LegacyCredential) -> None:
        """A guardian who already registered (activation key) signs in with that account."""
        if credential.person_id is None:
            raise BridgePersonUnknownError
        query = select(Account.id).where(
            Account.person_id == credential.person_id,
            Account.kind == AccountKind.GUARDIAN,
            Account.state.not_in((*RELEASED_STATES, AccountState.PENDING_EMAIL)),
        )
        if self._session.execute(query.limit(1)).first() is not None:
            raise PersonAlreadyHasAccountError

    def _fresh_credential(
        self, marker: BridgedSignIn | None, *, lock: bool = False
    ) -> LegacyCredential:
        if marker is None or not self._is_fresh(marker):
            raise UpgradeExpiredError
        credential = self._session.get(LegacyCredential, marker.credential_id, with_for_update=lock)
        if credential is None:
            raise UpgradeExpiredError
        self._refuse_migrated(credential)
        self._refuse_person_with_account(credential)
        return credential

    def _proves(self, marker: BridgedSignIn | None, credential: LegacyCredential) -> bool:
        """This browser gave this credential's IC password, recently."""
        return (
            marker is not None and marker.credential_id == credential.id and self._is_fresh(marker)
        )

    def _is_fresh(self, marker: BridgedSignIn | None) -> bool:
        """A proof of the IC password younger than `upgrade_minutes`."""
        if marker is None:
            return False
        age = self._clock.now() - marker.verified_at
        return timedelta(0) <= age <= self._upgrade_for

    def _ic_username_problem(self, credential: LegacyCredential) -> DomainError | None:
        """Why the IC username cannot be the portal username (the FAQ's rule, or taken)."""
        policy = self._accounts.username_policy
        name = credential.ic_username
        if not account_rules.is_valid_username(name, policy.min_length, policy.max_length):
            return UsernameInvalidError(min=policy.min_length, max=policy.max_length)
        return UsernameTakenError() if self._accounts.is_username_taken(name) else None

    def _remove_unconfirmed(self, credential: LegacyCredential) -> None:
        """An earlier try that never confirmed its email (or a registration left unconfirmed)
        is replaced, as registration replaces one: its username and email are free again."""
        query = select(Account).where(
            Account.person_id == credential.person_id,
            Account.kind == AccountKind.GUARDIAN,
            Account.state == AccountState.PENDING_EMAIL,
        )
        for old in self._session.execute(query.with_for_update()).scalars():
            self._accounts.purge_unconfirmed(old)
            self._audit.record("bridge:upgrade:replaced", subject_id=old.id)

    def _bound_credential(self, account: Account | None) -> LegacyCredential | None:
        if account is None or account.email is None:
            return None
        query = select(LegacyCredential).where(LegacyCredential.account_id == account.id)
        return self._session.execute(query.with_for_update()).scalar_one_or_none()
