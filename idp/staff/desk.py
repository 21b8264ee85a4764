"""What the staff console reads (issue 16.2-16.4, 16.6-16.7): whom the signed-in staff member
sees, and the pages about them. Reads only; the desk's acts are StaffService's use cases.

Every read takes the StaffScope (idp/staff/scope.py): a person outside it is None, which the
console answers with a 404, never a 403.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountKind
from idp.clock import Clock
from idp.credentials.service import SignInService
from idp.credentials.students import THROTTLE_NAMESPACE as STUDENT_THROTTLE_NAMESPACE
from idp.credentials.students import StudentSignInService
from idp.credentials.throttle import FailureThrottle
from idp.oidc.disclosures import Disclosure, disclosures_about_student
from idp.policy import Policies
from idp.roster.models import Person
from idp.staff.audit_trail import TrailFilter, TrailLine, TrailPage, trail_page, trail_rows
from idp.staff.dashboard import dashboard
from idp.staff.person_page import person_page
from idp.staff.records import PersonPage, SchoolDashboard, SignInNames
from idp.staff.scope import StaffScope, can_see_account, can_see_person, staff_scope
from idp.staff.search import SearchPage, search_people


@dataclass(frozen=True)
class DeskReaders:
    """What the desk reads through other capabilities: sign-in locks, and the names the
    sign-in throttles count under (for the dashboard's locked accounts)."""

    sign_in: SignInService
    student_sign_in: StudentSignInService
    names: SignInNames


class StaffDesk:
    """The console's reads, each within the signed-in staff member's scope."""

    def __init__(
        self, session: Session, clock: Clock, policies: Policies, readers: DeskReaders
    ) -> None:
        self._session = session
        self._clock = clock
        self._policies = policies
        self._readers = readers

    def person_page(
        self, scope: StaffScope, *, person_id: int | None = None, account_id: int | None = None
    ) -> PersonPage | None:
        """The page of a roster Person or of an account; None outside the scope."""
        return person_page(
            self._session,
            scope,
            person_id=person_id,
            account_id=account_id,
            now=self._clock.now(),
            lifecycle_policy=self._policies.lifecycle,
            lock_reader=self._lock_until,
        )

    def dashboard(self, scope: StaffScope) -> list[SchoolDashboard]:
        """The rollout figures of each school of the scope."""
        return dashboard(
            self._session,
            scope,
            now=self._clock.now(),
            rollout_policy=self._policies.rollout,
            names=self._readers.names,
        )

    def search(self, scope: StaffScope, text: str, page: int) -> SearchPage:
        """Persons of the scope whose name, Person ID, student ID, username or email starts
        with the words of `text`."""
        return search_people(self._session, scope, text, page=page)

    def disclosures_about_student(self, student_person_id: int) -> list[Disclosure]:
        """Which apps received data about the student, when (the caller checked the scope)."""
        return disclosures_about_student(self._session, student_person_id)

    def _lock_until(self, account: Account) -> datetime | None:
        if account.kind == AccountKind.STUDENT:
            return self._readers.student_sign_in.locked_until(account)
        return self._readers.sign_in.locked_until(account)

    def scope_of(self, account: Account, action: str | None = None) -> StaffScope | None:
        """The schools the active staff `account` works for (with a role that staff.toml
        allows `action`, when given); None without any such role."""
        roles = self._policies.staff.roles_for(action) if action is not None else None
        return staff_scope(self._session, account, roles)

    def trail(self, scope: StaffScope, where: TrailFilter, page: int) -> TrailPage:
        """A page of the audit trail of the scope's schools (give the view_audit scope)."""
        return trail_page(self._session, scope, where, page)

    def trail_export(self, scope: StaffScope, where: TrailFilter) -> Iterator[TrailLine]:
        """The audit trail's matching events for a CSV (give the export_audit scope)."""
        return trail_rows(self._session, scope, where)

    def sees_account(self, scope: StaffScope, account_id: int) -> bool:
        """Whether the account exists and the staff member may see it."""
        return can_see_account(self._session, scope, account_id)

    def sees_person(self, scope: StaffScope, person_id: int) -> bool:
        """Whether the roster Person exists and the staff member may see it."""
        return can_see_person(self._session, scope, person_id)

    def person(self, scope: StaffScope, person_id: int) -> Person | None:
        """The roster Person, if it exists and the staff member may see it."""
        if not can_see_person(self._session, scope, person_id):
            return None
        return self._session.get(Person, person_id)


def build_desk(
    *,
    session: Session,
    clock: Clock,
    policies: Policies,
    sign_in: SignInService,
    student_sign_in: StudentSignInService,
    name_key: bytes,
) -> StaffDesk:
    """The desk's reads, complete at construction. `name_key` is the server's HMAC key of the
    throttle table (idp/services.py): the dashboard matches locked names with it."""
    lockout = policies.credentials.lockout
    names = SignInNames(
        username_digest=FailureThrottle(session, clock, lockout, name_key).digest,
        student_id_digest=FailureThrottle(
            session, clock, lockout, name_key, STUDENT_THROTTLE_NAMESPACE
        ).digest,
    )
    return StaffDesk(session, clock, policies, DeskReaders(sign_in, student_sign_in, names))
