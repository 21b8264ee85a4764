"""From a OneRoster import to the `students` claim: the guardian signs in and the ID token and
userinfo list exactly the students the imported roster lets them see, oldest first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.models import Account
from idp.cli import main
from idp.clock import FrozenClock
from idp.extensions import db
from idp.roster.models import Person
from idp.services import Services
from tests.builders import make_account, make_staff
from tests.integration.oidc.conftest import decode_id_token, exchange, get_code, new_pkce, sign_in
from tests.roster_exports import Export, district_11, user

SCOPE = "openid students"


def _export() -> Export:
    """district_11 plus Eve (born 2010) at Eastgate High, which opens on 2027-08-15
    (policies/rollout.toml): Maria is the parent of Ana (2016), Ben (2012) and Eve."""
    export = district_11()
    export.rows["orgs"].append(
        {
            "sourcedId": "org-hs2",
            "name": "Eastgate High",
            "type": "school",
            "identifier": "DEMO-HS2",
        }
    )
    export.rows["users"].append(
        user("u-eve", "student", "S1003", "Eve Lopez", orgSourcedIds="org-hs2",
             agentSourcedIds="u-maria", grades="11")
    )  # fmt: skip
    export.row("users", "u-maria")["agentSourcedIds"] = "u-ana,u-ben,u-eve"
    export.rows["demographics"].append({"sourcedId": "u-eve", "birthDate": "2010-02-11"})
    return export


def _import(app: Flask, folder: Path) -> None:
    result = app.test_cli_runner().invoke(main, ["roster", "import", str(folder)])
    assert result.exit_code == 0, result.output


@pytest.fixture
def maria(app: Flask, services: Services, registered_clients: None, tmp_path: Path) -> Account:
    """The roster imported, and Maria (G2001) with a portal account (parentuser1)."""
    _import(app, _export().write(tmp_path / "export"))
    account = make_account(services)
    person = db.session.execute(select(Person).where(Person.sis_person_id == "G2001")).scalar_one()
    account.person_id = person.id
    db.session.commit()
    return account


def _claims(client: FlaskClient) -> tuple[list[str], list[str]]:
    """The student ids of the ID token and of userinfo, after a fresh sign-in."""
    sign_in(client)
    pkce = new_pkce()
    tokens: dict[str, Any] = exchange(client, get_code(client, pkce, scope=SCOPE), pkce).get_json()
    id_token = decode_id_token(client, tokens["id_token"])
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    userinfo = client.get("/userinfo", headers=bearer).get_json()
    return (
        [student["id"] for student in id_token["students"]],
        [student["id"] for student in userinfo["students"]],
    )


def test_imported_children_oldest_first_without_the_closed_school(
    client: FlaskClient, maria: Account
) -> None:
    assert _claims(client) == (["S1002", "S1001"], ["S1002", "S1001"])


def test_the_closed_school_child_appears_from_the_rollout_date(
    client: FlaskClient, maria: Account, clock: FrozenClock
) -> None:
    clock.set(clock.now().replace(year=2027, month=8, day=15))

    assert _claims(client)[1] == ["S1003", "S1002", "S1001"]


def test_a_reimport_does_not_lift_a_restriction(
    app: Flask, client: FlaskClient, services: Services, maria: Account, tmp_path: Path
) -> None:
    make_staff(services, None, "districtadmin1", "district_admin")
    services.staff.restrict_guardian("G2001", "S1002", "districtadmin1", "Court order 7")

    _import(app, _export().write(tmp_path / "again"))

    assert _claims(client)[1] == ["S1001"]


def test_a_bulk_import_without_the_relationship_removes_the_child(
    app: Flask, client: FlaskClient, maria: Account, tmp_path: Path
) -> None:
    export = _export()
    export.row("users", "u-maria")["agentSourcedIds"] = "u-ben,u-eve"
    export.row("users", "u-ana")["agentSourcedIds"] = "u-jose"

    _import(app, export.write(tmp_path / "without-ana"))

    assert _claims(client)[1] == ["S1002"]
