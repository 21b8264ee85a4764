"""A small family for registration tests: an open school, a student, a parent, a secretary."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask

from idp.accounts.models import Account
from idp.extensions import db
from idp.registration.keys import IssuedKey
from idp.roster.models import Person, School
from idp.services import Services
from tests.builders import enroll, make_person, make_school, make_staff, relate

STRONG_PASSWORD = "maple syrup on pancakes"


@dataclass
class Family:
    """The people a registration test starts with."""

    school: School
    student: Person
    guardian: Person
    secretary: Account


@pytest.fixture
def family(app: Flask, services: Services) -> Family:
    """A parent (legal guardian) of a student at an open school, and that school's secretary."""
    school = make_school("DEMO-ES1", "Lakeview Elementary")  # open since 2024 (rollout.toml)
    student = make_person("student", given_name="Ava", family_name="Lee")
    enroll(student, school)
    guardian = make_person("guardian", given_name="Maria", family_name="Lee")
    relate(guardian, student, "parent")
    db.session.commit()
    return Family(school, student, guardian, make_staff(services, school, "secretaryes1"))


def issue_key(services: Services, family: Family) -> IssuedKey:
    """A fresh activation key for the family's guardian."""
    return services.staff.issue_activation_key(
        family.guardian.sis_person_id, family.secretary.username or "", "drivers_license"
    )
