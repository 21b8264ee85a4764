"""The school's desk (DESIGN.md 5, "Staff console"): the use cases in which a staff member acts.

Each use case authorizes the staff member once (idp/staff/access.py), asks the capability
that owns the rule to do its part (roster: relationships; registration: activation keys;
lifecycle: account states), ends access through the one path (DESIGN.md 7) when the act
takes access away and writes the audit event; the edge commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from idp.accounts.ending import AccessEnding
from idp.accounts.models import Account, AccountKind
from idp.audit.service import AuditLog
from idp.errors import DomainError
from idp.lifecycle import errors as lifecycle_errors
from idp.lifecycle.service import LifecycleService
from idp.registration.errors import StaffNotAllowedError
from idp.registration.keys import ActivationKeyService, IssuedKey
from idp.roster import errors as roster_errors
from idp.roster.models import Relationship
from idp.roster.restrictions import REASON_MAX_LENGTH, GuardianRestrictions
from idp.staff.access import authorized_staff, students_of
from idp.staff.rules import cleaned_reason

CANCEL_REASON_MAX_LENGTH = 500


@dataclass(frozen=True)
class StaffDeps:
    """The capabilities the staff desk composes."""

    restrictions: GuardianRestrictions
    keys: ActivationKeyService
    lifecycle: LifecycleService
    audit: AuditLog
    access: AccessEnding  # the one path that ends access (oidc.logout.LogoutService)


class StaffService:
    """Restricts and lifts a guardian's rights to one student, issues activation keys, and
    cancels accounts."""

    def __init__(self, session: Session, deps: StaffDeps) -> None:
        self._session = session
        self._restrictions = deps.restrictions
        self._keys = deps.keys
        self._lifecycle = deps.lifecycle
        self._audit = deps.audit
        self._access = deps.access

    def restrict_guardian(
        self, guardian_person_id: str, student_person_id: str, staff_username: str, reason: str
    ) -> Relationship:
        """Restrict the relationship, end the guardian's access everywhere."""
        relationship, staff, reason = self._relationship_act(
            guardian_person_id, student_person_id, staff_username, reason
        )
        self._restrictions.restrict(relationship, staff, reason)
        self._record_relationship("roster:relationship:restricted", relationship, staff, reason)
        for account in self._restrictions.guardian_accounts(relationship):
            self._access.end_access(
                account, "guardian_restricted", student_id=relationship.student_id
            )
        return relationship

    def lift_restriction(
        self, guardian_person_id: str, student_person_id: str, staff_username: str, reason: str
    ) -> Relationship:
        """Lift the restriction; the child shows again from the next sign-in."""
        relationship, staff, reason = self._relationship_act(
            guardian_person_id, student_person_id, staff_username, reason
        )
        self._restrictions.lift(relationship)
        self._record_relationship("roster:relationship:lifted", relationship, staff, reason)
        return relationship

    def _relationship_act(
        self, guardian_person_id: str, student_person_id: str, staff_username: str, reason: str
    ) -> tuple[Relationship, Account, str]:
        """The relationship a restriction or its lifting is about, the staff member allowed to
        act on its student, and the checked reason; or the refusal."""
        relationship = self._restrictions.find(guardian_person_id, student_person_id)
        refusal = roster_errors.RestrictionNotAllowedError
        staff = self._authorized(staff_username, [relationship.student_id], refusal)
        return relationship, staff, _restriction_reason(reason)

    def issue_activation_key(
        self, sis_person_id: str, staff_username: str, id_type: str
    ) -> IssuedKey:
        """Issue a key to the guardian after a photo-ID check (revoking any earlier one),
        or raise why not."""
        guardian = self._keys.eligible_guardian(sis_person_id, id_type)
        staff = self._authorized(staff_username, guardian.student_ids, StaffNotAllowedError)
        issued = self._keys.create_activation_key(guardian.person, staff, id_type)
        self._audit.record(
            "registration:key:issued",
            actor_id=staff.id,
            person_id=guardian.person.id,
            id_type=id_type,
        )
        return issued

    def cancel_account(self, username: str, staff_username: str, reason: str) -> Account:
        """Cancel the account on the school's word: access ends at once and the email may
        register again from the start."""
        cleaned = cleaned_reason(reason, CANCEL_REASON_MAX_LENGTH)
        if cleaned is None:
            raise lifecycle_errors.CancelReasonRequiredError(max_length=CANCEL_REASON_MAX_LENGTH)
        account = self._lifecycle.find_cancellable(username)
        students = students_of(self._session, account)
        staff = self._authorized(staff_username, students, lifecycle_errors.CancelNotAllowedError)
        if account.kind == AccountKind.STAFF:  # no school desk closes a staff account
            raise lifecycle_errors.CancelNotAllowedError
        self._lifecycle.cancel(account)
        self._access.end_access(account, "cancelled")
        self._audit.record(
            "lifecycle:account:cancelled", actor_id=staff.id, subject_id=account.id, reason=cleaned
        )
        return account

    def _authorized(
        self, username: str, student_ids: Iterable[int], refusal: type[DomainError]
    ) -> Account:
        """The staff account allowed to act for these students, or `refusal` raised."""
        staff = authorized_staff(self._session, username, student_ids)
        if staff is None:
            raise refusal
        return staff

    def _record_relationship(
        self, event: str, relationship: Relationship, staff: Account, reason: str
    ) -> None:
        # The issue asks for the legal reason in the audit trail: it is staff's own wording of
        # a court order or school decision, not a secret.
        details: dict[str, Any] = {
            "guardian_person_id": relationship.guardian_id,
            "student_person_id": relationship.student_id,
            "relationship_id": relationship.id,
            "reason": reason,
        }
        self._audit.record(event, actor_id=staff.id, **details)


def _restriction_reason(reason: str) -> str:
    cleaned = cleaned_reason(reason, REASON_MAX_LENGTH)
    if cleaned is None:
        raise roster_errors.RestrictionReasonRequiredError(max_length=REASON_MAX_LENGTH)
    return cleaned
