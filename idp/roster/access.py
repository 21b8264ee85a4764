"""Which students a guardian may see: the one rule every part of the provider uses.

A guardian sees a student only through an active, unrestricted, legal-guardian relationship,
and only while the student is enrolled in a school whose portal is open (policies/rollout.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.policy import RolloutPolicy
from idp.roster.models import Enrollment, Person, Relationship, School


@dataclass(frozen=True)
class GuardianStanding:
    """Why a person may or may not use the portal as a guardian (for clear refusals)."""

    is_guardian: bool
    has_legal_relationship: bool
    has_unrestricted_relationship: bool
    visible_student_ids: tuple[int, ...]


class GuardianAccess:
    """Computes, from the roster and the rollout policy, what a guardian may see on a day."""

    def __init__(self, session: Session, rollout: RolloutPolicy) -> None:
        self._session = session
        self._rollout = rollout

    def standing(self, person: Person, on: date) -> GuardianStanding:
        """The guardian's relationships, reduced to what the refusal messages need."""
        if person.role != "guardian" or not person.is_active:
            return GuardianStanding(False, False, False, ())
        rows = self._session.execute(
            select(Relationship.student_id, Relationship.restricted_at).where(
                Relationship.guardian_id == person.id,
                Relationship.is_active.is_(True),
                Relationship.is_legal_guardian.is_(True),
            )
        ).all()
        unrestricted = [student_id for student_id, restricted_at in rows if restricted_at is None]
        return GuardianStanding(
            is_guardian=True,
            has_legal_relationship=bool(rows),
            has_unrestricted_relationship=bool(unrestricted),
            visible_student_ids=self._in_open_schools(unrestricted, on),
        )

    def visible_student_ids(self, person: Person, on: date) -> tuple[int, ...]:
        """The Person ids of the students this guardian may see on the day `on`."""
        return self.standing(person, on).visible_student_ids

    def _in_open_schools(self, student_ids: list[int], on: date) -> tuple[int, ...]:
        if not student_ids:
            return ()
        open_schools = self._rollout.enabled_school_ids(on)
        query = (
            select(Enrollment.person_id)
            .join(School, School.id == Enrollment.school_id)
            .join(Person, Person.id == Enrollment.person_id)
            .where(
                Enrollment.person_id.in_(student_ids),
                Enrollment.is_active.is_(True),
                Person.is_active.is_(True),
                School.sis_id.in_(sorted(open_schools)),
            )
            .distinct()
            .order_by(Enrollment.person_id)
        )
        return tuple(self._session.execute(query).scalars())
