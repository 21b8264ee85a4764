"""Activation keys: who may get one, what is stored, single use, expiry, re-issue."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from idp.accounts.models import AccountState
from idp.audit.models import AuditEvent
from idp.clock import FrozenClock
from idp.errors import DomainError
from idp.extensions import db
from idp.registration import errors
from idp.registration.models import ActivationKey
from idp.roster.models import Relationship
from idp.services import Services
from idp.staff.models import StaffAssignment
from tests.builders import enroll, make_account, make_person, make_school, make_staff, relate
from tests.integration.registration.conftest import Family, issue_key


def _key_count() -> int:
    return int(db.session.execute(select(func.count(ActivationKey.id))).scalar_one())


def test_issued_key_is_a_guid_stored_only_as_a_digest(services: Services, family: Family) -> None:
    issued = issue_key(services, family)

    row = db.session.get(ActivationKey, issued.activation_key_id)
    assert row is not None
    assert len(issued.key) == 36
    assert issued.key.count("-") == 4
    assert issued.key.replace("-", "").lower() not in (row.key_digest, str(row.id))
    assert len(row.key_digest) == 64
    assert (row.person_id, row.issued_by_account_id, row.id_type_seen) == (
        family.guardian.id,
        family.secretary.id,
        "drivers_license",
    )


def test_key_expires_after_the_policy_lifetime(
    services: Services, family: Family, clock: FrozenClock
) -> None:
    issued = issue_key(services, family)

    assert issued.expires_at == clock.now() + timedelta(days=30)


def test_issuing_records_who_issued_after_which_id_check(
    services: Services, family: Family
) -> None:
    issue_key(services, family)

    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.event == "registration:key:issued")
    ).scalar_one()
    assert event.actor_account_id == family.secretary.id
    assert event.data == {"person_id": family.guardian.id, "id_type": "drivers_license"}


def test_reissuing_revokes_the_previous_key(services: Services, family: Family) -> None:
    first = issue_key(services, family)
    issue_key(services, family)

    with pytest.raises(errors.InvalidActivationError):
        services.registration.check_key(family.guardian.sis_person_id, first.key)


def _relative(services: Services, family: Family) -> str:
    relative = make_person("guardian")
    relate(relative, family.student, "relative")
    db.session.commit()
    return relative.sis_person_id


def _guardian_at_closed_school(services: Services, family: Family) -> str:
    closed = make_school("DEMO-HS2", "Eastgate High")  # opens 2027-08-15 in rollout.toml
    student = make_person("student")
    enroll(student, closed)
    guardian = make_person("guardian")
    relate(guardian, student)
    db.session.add(
        StaffAssignment(account_id=family.secretary.id, school_id=closed.id, role="secretary")
    )
    db.session.commit()
    return guardian.sis_person_id


def relationship_time() -> datetime:
    return current_app.extensions["idp.clock"].now()  # type: ignore[no-any-return]


def _restricted(services: Services, family: Family) -> str:
    relationship = db.session.execute(select(Relationship)).scalar_one()
    relationship.restricted_at = relationship_time()
    relationship.restriction_reason = "court order"
    db.session.commit()
    return family.guardian.sis_person_id


@pytest.mark.parametrize(
    ("make_case", "error"),
    [
        (lambda services, family: "P-NOBODY", errors.PersonNotFoundError),
        (lambda services, family: family.student.sis_person_id, errors.NotAGuardianError),
        (_relative, errors.NotLegalGuardianError),
        (_guardian_at_closed_school, errors.NoOpenSchoolError),
        (_restricted, errors.GuardianRestrictedError),
    ],
    ids=["unknown", "student", "relative", "closed-school", "restricted"],
)
def test_only_legal_guardians_of_students_at_open_schools_get_a_key(
    services: Services, family: Family, make_case: object, error: type[DomainError]
) -> None:
    sis_person_id = make_case(services, family)  # type: ignore[operator]

    with pytest.raises(error):
        services.staff.issue_activation_key(sis_person_id, "secretaryes1", "passport")
    assert _key_count() == 0


def test_staff_of_another_school_cannot_issue(services: Services, family: Family) -> None:
    other = make_staff(services, make_school("DEMO-MS1", "Riverside Middle"), "secretaryms1")

    with pytest.raises(errors.StaffNotAllowedError):
        services.staff.issue_activation_key(
            family.guardian.sis_person_id, other.username or "", "other"
        )
    assert _key_count() == 0


def test_unknown_id_type_is_refused(services: Services, family: Family) -> None:
    with pytest.raises(errors.IdTypeUnknownError):
        services.staff.issue_activation_key(
            family.guardian.sis_person_id, "secretaryes1", "library"
        )
    assert _key_count() == 0


def test_guardian_with_an_account_gets_no_key(services: Services, family: Family) -> None:
    account = make_account(services, state=AccountState.ACTIVE)
    account.person_id = family.guardian.id
    db.session.commit()

    with pytest.raises(errors.GuardianHasAccountError):
        issue_key(services, family)
    assert _key_count() == 0


@pytest.mark.parametrize(
    "typed",
    [
        lambda key: key,
        lambda key: key.lower(),
        lambda key: key.replace("-", ""),
        lambda key: "{" + key + "} ",
    ],
    ids=["as-printed", "lower-case", "no-dashes", "braces-and-space"],
)
def test_key_is_accepted_however_it_is_typed(
    services: Services, family: Family, typed: object
) -> None:
    issued = issue_key(services, family)

    key_id = services.registration.check_key(family.guardian.sis_person_id, typed(issued.key))  # type: ignore[operator]

    assert key_id == issued.activation_key_id


def test_expired_key_is_refused_with_the_generic_message(
    services: Services, family: Family, clock: FrozenClock
) -> None:
    issued = issue_key(services, family)
    clock.advance(days=31)

    with pytest.raises(errors.InvalidActivationError):
        services.registration.check_key(family.guardian.sis_person_id, issued.key)


def test_key_of_another_person_is_refused(services: Services, family: Family) -> None:
    issued = issue_key(services, family)
    other = make_person("guardian")
    relate(other, family.student)
    db.session.commit()

    with pytest.raises(errors.InvalidActivationError):
        services.registration.check_key(other.sis_person_id, issued.key)


def test_fifth_wrong_key_locks_the_person_id(services: Services, family: Family) -> None:
    issued = issue_key(services, family)
    for _ in range(5):
        with pytest.raises(errors.InvalidActivationError):
            services.registration.check_key(family.guardian.sis_person_id, "0" * 32)

    with pytest.raises(errors.ActivationLockedError):
        services.registration.check_key(family.guardian.sis_person_id, issued.key)
