"""Restricting a guardian's rights to one student, and lifting the restriction.

A restriction acts at once (DESIGN.md 7): the guardian's tokens are revoked and every app the
guardian signed in to gets a back-channel logout, through the one `end_access` path. Claims
are read from the roster when tokens are issued, so the child is absent from the next token
and userinfo answer, and present again after a lift from the next sign-in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from idp.accounts.ending import AccessEnding
from idp.accounts.models import RELEASED_STATES, Account, AccountKind
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.roster import errors
from idp.roster.models import Person, Relationship
from idp.staff.access import authorized_staff

REASON_MAX_LENGTH = 500  # Relationship.restriction_reason


class RestrictionService:
    """Records and lifts guardian-rights restrictions, with who, when and the legal reason."""

    def __init__(
        self, session: Session, clock: Clock, audit: AuditLog, access: AccessEnding
    ) -> None:
        self._session = session
        self._clock = clock
        self._audit = audit
        self._access = access

    def restrict(
        self, guardian_person_id: str, student_person_id: str, staff_username: str, reason: str
    ) -> Relationship:
        """Restrict the relationship, end the guardian's access everywhere, and commit."""
        relationship, staff = self._find(guardian_person_id, student_person_id, staff_username)
        reason = _checked_reason(reason)
        if relationship.restricted_at is not None:
            raise errors.AlreadyRestrictedError
        relationship.restricted_at = self._clock.now()
        relationship.restricted_by_account_id = staff.id
        relationship.restriction_reason = reason
        self._record("roster:relationship:restricted", relationship, staff, reason)
        for account in self._guardian_accounts(relationship.guardian_id):
            self._access.end_access(
                account, "guardian_restricted", student_id=relationship.student_id
            )
        self._session.commit()
        return relationship

    def lift(
        self, guardian_person_id: str, student_person_id: str, staff_username: str, reason: str
    ) -> Relationship:
        """Lift the restriction and commit; the child shows again from the next sign-in."""
        relationship, staff = self._find(guardian_person_id, student_person_id, staff_username)
        reason = _checked_reason(reason)
        if relationship.restricted_at is None:
            raise errors.NotRestrictedError
        relationship.restricted_at = None
        relationship.restricted_by_account_id = None
        relationship.restriction_reason = None
        self._record("roster:relationship:lifted", relationship, staff, reason)
        self._session.commit()
        return relationship

    def _find(
        self, guardian_person_id: str, student_person_id: str, staff_username: str
    ) -> tuple[Relationship, Account]:
        guardian, student = aliased(Person), aliased(Person)
        query = (
            select(Relationship)
            .join(guardian, guardian.id == Relationship.guardian_id)
            .join(student, student.id == Relationship.student_id)
            .where(
                guardian.sis_person_id == guardian_person_id.strip(),
                student.sis_person_id == student_person_id.strip(),
            )
            .with_for_update()
        )
        relationship = self._session.execute(query).scalar_one_or_none()
        if relationship is None:
            raise errors.RelationshipNotFoundError
        staff = authorized_staff(self._session, staff_username, [relationship.student_id])
        if staff is None:
            raise errors.RestrictionNotAllowedError
        return relationship, staff

    def _guardian_accounts(self, guardian_id: int) -> list[Account]:
        query = select(Account).where(
            Account.person_id == guardian_id,
            Account.kind == AccountKind.GUARDIAN,
            Account.state.not_in(RELEASED_STATES),
        )
        return list(self._session.execute(query).scalars())

    def _record(self, event: str, relationship: Relationship, staff: Account, reason: str) -> None:
        # The issue asks for the legal reason in the audit trail: it is staff's own wording of
        # a court order or school decision, not a secret.
        details: dict[str, Any] = {
            "guardian_person_id": relationship.guardian_id,
            "student_person_id": relationship.student_id,
            "relationship_id": relationship.id,
            "reason": reason,
        }
        self._audit.record(event, actor_id=staff.id, **details)


def _checked_reason(reason: str) -> str:
    cleaned = " ".join(reason.split())
    if not cleaned or len(cleaned) > REASON_MAX_LENGTH:
        raise errors.RestrictionReasonRequiredError(max_length=REASON_MAX_LENGTH)
    return cleaned
