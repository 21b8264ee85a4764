"""`idp activation issue`: prints the letter with a working key, or says why not."""

from __future__ import annotations

import re

from flask import Flask

from idp.cli import main
from idp.services import Services
from tests.integration.registration.conftest import Family

_KEY = re.compile(r"Activation key:\s+([0-9A-F-]{36})")


def test_issue_prints_a_letter_whose_key_registers(
    app: Flask, services: Services, family: Family
) -> None:
    args = ["activation", "issue", "--person-id", family.guardian.sis_person_id]
    args += ["--staff", "secretaryes1", "--id-type", "state_id"]

    result = app.test_cli_runner().invoke(main, args)

    match = _KEY.search(result.output)
    assert result.exit_code == 0
    assert "For: Maria Lee" in result.output
    assert "http://localhost/register" in result.output
    assert match is not None
    assert services.registration.check_key(family.guardian.sis_person_id, match.group(1)) > 0


def test_refusal_exits_1_with_the_reason(app: Flask, family: Family) -> None:
    args = ["activation", "issue", "--person-id", family.student.sis_person_id]
    args += ["--staff", "secretaryes1", "--id-type", "passport"]

    result = app.test_cli_runner().invoke(main, args)

    assert result.exit_code == 1
    assert "not_a_guardian: This person is not a parent or guardian" in result.output
    assert _KEY.search(result.output) is None


def test_letter_is_printed_in_the_guardians_language(app: Flask, family: Family) -> None:
    args = ["activation", "issue", "--person-id", family.guardian.sis_person_id]
    args += ["--staff", "secretaryes1", "--id-type", "state_id", "--lang", "es"]

    result = app.test_cli_runner().invoke(main, args)

    assert result.exit_code == 0
    assert "Activation key:" not in result.output
    assert re.search(
        r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[0-9A-F]{4}-[0-9A-F]{12}", result.output
    )
