"""A person's bridge status for staff: legacy credential present, migrated when."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from idp.bridge.legacy import BridgeStatus
from idp.cli import main
from idp.roster.models import Person
from idp.services import Services
from tests.conftest import START
from tests.integration.bridge.conftest import make_legacy, post_form, sign_in, verify_link


def _status(app: Flask, person_id: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(main, ["bridge", "status", "--person-id", person_id])
    return result.exit_code, result.output


def test_person_without_a_legacy_credential(app: Flask, guardian: Person) -> None:
    assert _status(app, "G-3001") == (0, "G-3001: no legacy IC credential\n")


def test_credential_waiting_for_its_upgrade(app: Flask, guardian: Person) -> None:
    make_legacy(guardian, "w.chen", "pbkdf2_sha256")

    code, output = _status(app, "G-3001")

    assert code == 0
    assert output.splitlines() == [
        "IC username  w.chen",
        "hash         pbkdf2_sha256",
        "imported     2026-09-01T12:00:00+00:00",
        "migrated     not yet",
    ]


def test_migrated_credential_says_when_and_to_which_username(
    app: Flask, client: FlaskClient, services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    client.get(verify_link(services, "wei@example.org"))

    statuses = services.legacy_credentials.status("G-3001")

    assert statuses == (BridgeStatus("ChenFamily7", "bcrypt", START, START, "ChenFamily7"),)
    assert _status(app, "G-3001")[1].splitlines()[-1] == (
        "migrated     2026-09-01T12:00:00+00:00 (portal username ChenFamily7)"
    )


def test_unknown_person_id_is_an_error(app: Flask) -> None:
    assert _status(app, "G-404") == (
        1,
        "idp: bridge_person_not_found: No person in the roster has the Person ID G-404.\n",
    )
