"""A district that changes policies/staff.toml changes who may do what: here district IT has
taken activation keys from secretaries (issue 16.2). The whole module runs on that policy."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from idp.cli import main
from idp.config import PROJECT_ROOT, Settings
from idp.extensions import db
from idp.registration.models import ActivationKey
from idp.services import Services
from tests.builders import enroll, make_person, make_school, make_staff, relate

ADMINS = '"school_admin", "district_admin"]'
SHIPPED = f'issue_activation_key = ["secretary", "enrollment_specialist", {ADMINS}'
CHANGED = f'issue_activation_key = ["enrollment_specialist", {ADMINS}'


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test settings, on a copy of the shipped policies without keys for secretaries."""
    policies = Path(shutil.copytree(PROJECT_ROOT / "policies", tmp_path / "policies"))
    staff = policies / "staff.toml"
    text = staff.read_text(encoding="utf-8")
    assert text.count(SHIPPED) == 1
    staff.write_text(text.replace(SHIPPED, CHANGED), encoding="utf-8")
    return dataclasses.replace(settings, policy_dir=policies)


@pytest.fixture
def guardian_id(app: Flask, services: Services) -> str:
    """A parent of a student at an open school; secretaryes1 and specialistes1 work there."""
    school = make_school("DEMO-ES1", "Lakeview Elementary")  # open since 2024 (rollout.toml)
    student = make_person("student")
    enroll(student, school)
    guardian = make_person("guardian")
    relate(guardian, student, "parent")
    db.session.commit()
    make_staff(services, school, "secretaryes1", "secretary")
    make_staff(services, school, "specialistes1", "enrollment_specialist")
    return guardian.sis_person_id


def _issue(app: Flask, person_id: str, staff: str) -> list[str]:
    args = ["activation", "issue", "--person-id", person_id, "--staff", staff]
    result = app.test_cli_runner().invoke(main, [*args, "--id-type", "passport"])
    return [str(result.exit_code), result.output]


def test_a_secretary_may_no_longer_issue_a_key_and_nothing_changes(
    app: Flask, guardian_id: str
) -> None:
    exit_code, output = _issue(app, guardian_id, "secretaryes1")

    assert exit_code == "1"
    assert "idp: staff_not_allowed:" in output
    assert "Activation key:" not in output
    assert db.session.execute(select(ActivationKey)).first() is None


def test_an_enrollment_specialist_still_issues_the_key(app: Flask, guardian_id: str) -> None:
    exit_code, output = _issue(app, guardian_id, "specialistes1")

    assert exit_code == "0", output
    assert "Activation key:" in output
    assert db.session.execute(select(ActivationKey)).scalar_one() is not None
