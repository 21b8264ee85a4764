"""The staff console in the browser's terms (issue 16): scoping (another school's person is a
404 on every route), each action a POST with CSRF, a confirmation and a reason where it matters,
writing exactly one audit event; the activation letter; the audit trail and its CSV."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.accounts.models import Account, AccountKind, AccountState
from idp.audit.models import AuditEvent
from idp.clock import FrozenClock
from idp.credentials.students import StudentCredentials
from idp.errors import DomainError
from idp.extensions import db
from idp.roster.models import Person, Relationship
from idp.services import Services
from tests.builders import csrf_token, enroll, make_account, make_person, make_school, relate
from tests.staff_desk import enrolled_staff, sign_in_staff

REASON = "Photo ID checked at the front desk"
BORN = date(2014, 5, 17)


@dataclass
class World:
    """Two schools. At A: the student S-A, her guardian G-A (account parentusera), and G-N,
    a guardian without an account. At B: the student S-B and his guardian G-B (parentuserb).
    Staff: secretary1 and schooladmin1 at A, districtadmin1 district-wide."""

    student_a: Person
    guardian_a: Person
    no_account: Person
    student_b: Person
    guardian_b: Person
    account_a: Account
    account_b: Account
    relationship_a: Relationship
    relationship_b: Relationship
    staff: dict[str, Account]


@pytest.fixture
def world(app: Flask, services: Services) -> World:
    school_a = make_school("DEMO-ES1", "Lakeview Elementary")
    school_b = make_school("DEMO-MS1", "Riverside Middle")
    student_a = make_person("student", BORN, sis_person_id="S-A", given_name="Zoë")
    enroll(student_a, school_a)
    guardian_a = make_person("guardian", sis_person_id="G-A", family_name="Álvarez")
    relationship_a = relate(guardian_a, student_a)
    no_account = make_person("guardian", sis_person_id="G-N")
    relate(no_account, student_a)
    student_b = make_person("student", BORN, sis_person_id="S-B")
    enroll(student_b, school_b)
    guardian_b = make_person("guardian", sis_person_id="G-B")
    relationship_b = relate(guardian_b, student_b)
    account_a = make_account(services, "parentusera", "a@example.org")
    account_a.person_id = guardian_a.id
    account_b = make_account(services, "parentuserb", "b@example.org")
    account_b.person_id = guardian_b.id
    db.session.commit()
    staff = {
        "secretary1": enrolled_staff(services, school_a, "secretary1", "secretary"),
        "schooladmin1": enrolled_staff(services, school_a, "schooladmin1", "school_admin"),
        "districtadmin1": enrolled_staff(services, None, "districtadmin1", "district_admin"),
    }
    return World(
        student_a,
        guardian_a,
        no_account,
        student_b,
        guardian_b,
        account_a,
        account_b,
        relationship_a,
        relationship_b,
        staff,
    )


def _desk(client: FlaskClient, clock: FrozenClock, username: str) -> FlaskClient:
    sign_in_staff(client, clock, username)
    return client


def _events(name: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if name is not None:
        query = query.where(AuditEvent.event == name)
    return list(db.session.execute(query).scalars())


def _state(account: Account) -> str:
    db.session.expire_all()
    found = db.session.get(Account, account.id)
    assert found is not None
    return str(found.state)


def _b_routes(world: World) -> list[str]:
    """Every desk route about a person of school B."""
    person, guardian, account = world.student_b.id, world.guardian_b.id, world.account_b.id
    relationship = world.relationship_b.id
    actions = [
        "re-enable",
        "clear-lock",
        "resend-verification",
        "resend-account-ready",
        "username-reminder",
        "reset-questions",
        "student-password",
        "sign-out-everywhere",
        "reset-second-factor",
        "cancel",
    ]
    return [
        f"/staff/people/{person}",
        f"/staff/people/{guardian}",
        f"/staff/accounts/{account}",
        f"/staff/people/{guardian}/activation-key",
        f"/staff/people/{guardian}/revoke-key",
        f"/staff/people/{guardian}/relationships/{relationship}/restrict",
        f"/staff/people/{person}/relationships/{relationship}/lift",
        *(f"/staff/accounts/{account}/{action}" for action in actions),
    ]


def test_a_secretary_of_school_a_gets_404_for_every_route_of_school_b(
    client: FlaskClient, clock: FrozenClock, world: World
) -> None:
    desk = _desk(client, clock, "secretary1")
    token = csrf_token(desk.get("/staff/").get_data(as_text=True))
    before = len(_events())

    for route in _b_routes(world):
        assert desk.get(route).status_code == 404, route
    for route in _b_routes(world)[3:]:  # the actions: a POST changes nothing either
        posted = desk.post(route, data={"csrf_token": token, "confirm": "y", "reason": REASON})
        assert posted.status_code == 404, route

    assert len(_events()) == before
    assert _state(world.account_b) == AccountState.ACTIVE


def test_a_district_admin_sees_the_persons_of_both_schools(
    client: FlaskClient, clock: FrozenClock, world: World
) -> None:
    desk = _desk(client, clock, "districtadmin1")

    for person in (world.student_a, world.guardian_a, world.student_b, world.guardian_b):
        page = desk.get(f"/staff/people/{person.id}")
        assert page.status_code == 200
        assert person.sis_person_id in page.get_data(as_text=True)


def test_the_person_page_shows_state_questions_relationships_and_no_secret(
    client: FlaskClient, clock: FrozenClock, world: World
) -> None:
    desk = _desk(client, clock, "secretary1")

    page = desk.get(f"/staff/people/{world.guardian_a.id}").get_data(as_text=True)

    assert 'id="account-state">Active<' in page
    assert re.search(r'id="questions-set">Yes<', page)
    assert "parentusera" in page
    assert "Zoë" in page  # the child
    assert "argon2" not in page
    assert "whiskers" not in page


def test_a_secretary_is_offered_only_the_actions_of_her_role(
    client: FlaskClient, clock: FrozenClock, world: World
) -> None:
    desk = _desk(client, clock, "secretary1")
    page = desk.get(f"/staff/people/{world.guardian_a.id}").get_data(as_text=True)
    offered = re.findall(rf"/staff/accounts/{world.account_a.id}/([a-z-]+)", page)

    assert "username-reminder" in offered
    assert "cancel" not in offered
    assert "reset-questions" not in offered
    # ...and the use case refuses it even when posted directly.
    token = csrf_token(page)
    response = desk.post(
        f"/staff/accounts/{world.account_a.id}/cancel",
        data={"csrf_token": token, "confirm": "y", "reason": REASON},
    )
    assert response.status_code in (403, 404)
    assert _state(world.account_a) == AccountState.ACTIVE
    assert _events("lifecycle:account:cancelled") == []


ACTIONS_WITH_REASON = [
    ("reset-questions", "credentials:security_questions:reset"),
    ("cancel", "lifecycle:account:cancelled"),
]


@pytest.mark.parametrize(("slug", "event"), ACTIONS_WITH_REASON)
def test_an_action_writes_one_event_with_actor_target_and_reason(
    client: FlaskClient, clock: FrozenClock, world: World, slug: str, event: str
) -> None:
    desk = _desk(client, clock, "schooladmin1")
    url = f"/staff/accounts/{world.account_a.id}/{slug}"
    token = csrf_token(desk.get(url).get_data(as_text=True))

    response = desk.post(url, data={"csrf_token": token, "confirm": "y", "reason": REASON})

    assert response.status_code == 303
    [found] = _events(event)
    assert found.actor_account_id == world.staff["schooladmin1"].id
    assert found.subject_account_id == world.account_a.id
    assert found.data["reason"] == REASON


@pytest.mark.parametrize(
    "data",
    [
        {"confirm": "y", "reason": REASON},  # no CSRF token
        {"reason": REASON, "csrf_token": None},  # not confirmed
        {"confirm": "y", "reason": "   ", "csrf_token": None},  # no reason
    ],
    ids=["no-csrf", "no-confirmation", "no-reason"],
)
def test_a_post_without_csrf_confirmation_or_reason_changes_nothing(
    client: FlaskClient, clock: FrozenClock, world: World, data: dict[str, str | None]
) -> None:
    desk = _desk(client, clock, "schooladmin1")
    url = f"/staff/accounts/{world.account_a.id}/cancel"
    token = csrf_token(desk.get(url).get_data(as_text=True))
    sent = {key: (token if key == "csrf_token" else value) for key, value in data.items()}
    before = len(_events())

    response = desk.post(url, data=sent)

    assert response.status_code == 400
    assert _state(world.account_a) == AccountState.ACTIVE
    assert len(_events()) == before


def test_the_disabled_student_is_re_enabled_from_the_console_and_signs_in(
    app: Flask, client: FlaskClient, services: Services, clock: FrozenClock, world: World
) -> None:
    student = services.student_sign_in.sign_in(StudentCredentials("S-A", BORN))
    db.session.commit()
    clock.advance(days=190)
    services.lifecycle.sweep()
    db.session.commit()
    assert _state(student) == AccountState.DISABLED
    desk = _desk(client, clock, "schooladmin1")
    url = f"/staff/accounts/{student.id}/re-enable"
    page = desk.get(f"/staff/people/{world.student_a.id}").get_data(as_text=True)
    assert url in page
    token = csrf_token(desk.get(url).get_data(as_text=True))

    response = desk.post(url, data={"csrf_token": token, "confirm": "y", "reason": REASON})

    assert response.status_code == 303
    assert _state(student) == AccountState.ACTIVE
    [event] = _events("lifecycle:account:re_enabled")
    assert (event.actor_account_id, event.subject_account_id) == (
        world.staff["schooladmin1"].id,
        student.id,
    )
    kiosk = app.test_client()
    token = csrf_token(kiosk.get("/sign-in/student").get_data(as_text=True))
    signed_in = kiosk.post(
        "/sign-in/student",
        data={"student_id": "S-A", "birth_date": BORN.isoformat(), "csrf_token": token},
    )
    assert signed_in.status_code == 302
    assert "/sign-in" not in signed_in.headers["Location"]


def _letter(page: str) -> tuple[str, str]:
    key = re.search(r'id="letter-key"><code>([^<]+)</code>', page)
    person = re.search(r'id="letter-person-id">([^<]+)<', page)
    assert key is not None
    assert person is not None
    return person.group(1), key.group(1)


@pytest.mark.parametrize(
    ("lang", "heading"),
    [("en", "To create your account:"), ("es", "Para crear su cuenta:")],
)
def test_the_letter_carries_the_person_id_and_the_key_in_the_chosen_language(
    client: FlaskClient, clock: FrozenClock, world: World, lang: str, heading: str
) -> None:
    desk = _desk(client, clock, "secretary1")
    url = f"/staff/people/{world.no_account.id}/activation-key"
    token = csrf_token(desk.get(url).get_data(as_text=True))

    response = desk.post(
        url, data={"csrf_token": token, "id_type": "passport", "lang": lang, "confirm": "y"}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    person_id, key = _letter(page)
    assert person_id == "G-N"
    assert len(key) >= 16
    assert heading in page
    assert f'lang="{lang}"' in page
    [issued] = _events("registration:key:issued")
    assert issued.actor_account_id == world.staff["secretary1"].id
    assert key not in str(issued.data)


def test_a_key_without_the_photo_id_check_is_not_issued(
    client: FlaskClient, clock: FrozenClock, world: World
) -> None:
    desk = _desk(client, clock, "secretary1")
    url = f"/staff/people/{world.no_account.id}/activation-key"
    token = csrf_token(desk.get(url).get_data(as_text=True))

    for data in ({"id_type": "passport", "lang": "en"}, {"id_type": "", "confirm": "y"}):
        response = desk.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 400

    assert _events("registration:key:issued") == []


def test_the_audit_trail_is_for_admins_and_exports_csv_without_formulas(
    client: FlaskClient, app: Flask, clock: FrozenClock, world: World
) -> None:
    admin = _desk(client, clock, "schooladmin1")
    url = f"/staff/accounts/{world.account_a.id}/reset-questions"
    token = csrf_token(admin.get(url).get_data(as_text=True))
    admin.post(url, data={"csrf_token": token, "confirm": "y", "reason": "=HYPERLINK(1)"})

    page = admin.get("/staff/audit?event=credentials:").get_data(as_text=True)
    exported = admin.get("/staff/audit.csv?event=credentials:security_questions:reset")
    secretary = _desk(app.test_client(), clock, "secretary1")

    assert "credentials:security_questions:reset" in page
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert exported.mimetype == "text/csv"
    assert [row["subject"] for row in rows] == ["parentusera"]
    assert rows[0]["reason"] == "'=HYPERLINK(1)"
    assert secretary.get("/staff/audit").status_code == 404
    assert secretary.get("/staff/audit.csv").status_code == 404


def test_the_school_admin_trail_leaves_out_the_other_school(
    client: FlaskClient, services: Services, clock: FrozenClock, world: World
) -> None:
    services.staff.sign_out_everywhere(world.account_b.id, "districtadmin1", "lost phone")
    db.session.commit()
    admin = _desk(client, clock, "schooladmin1")

    page = admin.get("/staff/audit").get_data(as_text=True)

    assert "parentuserb" not in page


def test_the_dashboard_counts_the_schools_of_the_staff_member(
    client: FlaskClient, clock: FrozenClock, world: World
) -> None:
    page = _desk(client, clock, "secretary1").get("/staff/").get_data(as_text=True)

    assert "Lakeview Elementary" in page
    assert "Riverside Middle" not in page


def test_the_search_finds_accent_insensitively_within_the_scope(
    client: FlaskClient, clock: FrozenClock, world: World
) -> None:
    desk = _desk(client, clock, "secretary1")

    found = desk.get("/staff/search?q=alvarez").get_data(as_text=True)
    other = desk.get("/staff/search?q=G-B").get_data(as_text=True)

    assert f"/staff/people/{world.guardian_a.id}" in found
    assert f"/staff/people/{world.guardian_b.id}" not in other
    assert 'id="no-results"' in other


def test_staff_accounts_are_not_a_guardian_page(
    client: FlaskClient, services: Services, clock: FrozenClock, world: World
) -> None:
    count = db.session.execute(
        select(func.count()).select_from(Account).where(Account.kind == AccountKind.STAFF)
    ).scalar_one()
    desk = _desk(client, clock, "districtadmin1")

    page = desk.get(f"/staff/accounts/{world.staff['secretary1'].id}").get_data(as_text=True)

    assert count == 3
    assert "Secretary" in page
    assert f"/staff/accounts/{world.staff['secretary1'].id}/reset-second-factor" in page


def _post_action(desk: FlaskClient, url: str, **data: str) -> int:
    token = csrf_token(desk.get(url).get_data(as_text=True))
    return desk.post(url, data={"csrf_token": token, "confirm": "y", **data}).status_code


@pytest.mark.parametrize(
    ("slug", "event", "reason"),
    [
        ("resend-account-ready", "registration:account_ready:resent", None),
        ("username-reminder", "registration:username_reminder:requested", None),
        ("sign-out-everywhere", "oidc:account:signed_out", REASON),
        ("clear-lock", "credentials:sign_in_lock:cleared", REASON),
    ],
)
def test_each_account_action_of_the_console_writes_its_one_event(
    client: FlaskClient,
    services: Services,
    clock: FrozenClock,
    world: World,
    slug: str,
    event: str,
    reason: str | None,
) -> None:
    if slug == "clear-lock":
        for _ in range(services.policies.credentials.lockout.lock_after_failures):
            with pytest.raises(DomainError):
                services.sign_in.sign_in("parentusera", "not the password")
    desk = _desk(client, clock, "secretary1" if slug != "sign-out-everywhere" else "schooladmin1")
    page = desk.get(f"/staff/people/{world.guardian_a.id}").get_data(as_text=True)
    url = f"/staff/accounts/{world.account_a.id}/{slug}"
    assert url in page  # offered on the person page

    status = _post_action(desk, url, **({"reason": reason} if reason else {}))

    assert status == 303
    [found] = _events(event)
    assert found.subject_account_id == world.account_a.id
    assert found.actor_account_id is not None
    assert found.data.get("reason") == reason


def test_restrict_then_lift_from_the_student_page(
    client: FlaskClient, services: Services, clock: FrozenClock, world: World
) -> None:
    desk = _desk(client, clock, "schooladmin1")
    base = f"/staff/people/{world.student_a.id}/relationships/{world.relationship_a.id}"

    assert _post_action(desk, f"{base}/restrict", reason="Court order 2026-114") == 303
    page = desk.get(f"/staff/people/{world.student_a.id}").get_data(as_text=True)
    assert "Court order 2026-114" in page
    assert _post_action(desk, f"{base}/lift", reason="Order 2026-114 vacated") == 303

    [restricted] = _events("roster:relationship:restricted")
    [lifted] = _events("roster:relationship:lifted")
    assert restricted.data["reason"] == "Court order 2026-114"
    assert lifted.data["reason"] == "Order 2026-114 vacated"
    assert restricted.actor_account_id == lifted.actor_account_id == world.staff["schooladmin1"].id


def test_a_restriction_needs_the_legal_reference(
    client: FlaskClient, clock: FrozenClock, world: World
) -> None:
    desk = _desk(client, clock, "schooladmin1")
    url = f"/staff/people/{world.guardian_a.id}/relationships/{world.relationship_a.id}/restrict"

    assert _post_action(desk, url, reason="  ") == 400
    assert _events("roster:relationship:restricted") == []


def test_a_revoked_key_is_one_event_and_the_person_page_no_longer_lists_it(
    client: FlaskClient, services: Services, clock: FrozenClock, world: World
) -> None:
    services.staff.issue_activation_key("G-N", "secretary1", "passport")
    desk = _desk(client, clock, "secretary1")
    assert 'id="outstanding-keys"' in desk.get(f"/staff/people/{world.no_account.id}").get_data(
        as_text=True
    )

    status = _post_action(desk, f"/staff/people/{world.no_account.id}/revoke-key")

    assert status == 303
    [event] = _events("registration:key:revoked")
    assert event.actor_account_id == world.staff["secretary1"].id
    page = desk.get(f"/staff/people/{world.no_account.id}").get_data(as_text=True)
    assert 'id="outstanding-keys"' not in page


def test_a_district_admin_resets_a_staff_members_authenticator_app(
    client: FlaskClient, services: Services, clock: FrozenClock, world: World
) -> None:
    desk = _desk(client, clock, "districtadmin1")
    secretary = world.staff["secretary1"]

    status = _post_action(
        desk, f"/staff/accounts/{secretary.id}/reset-second-factor", reason="Lost phone"
    )

    assert status == 303
    [event] = _events("staff:second_factor:reset")
    assert (event.actor_account_id, event.subject_account_id) == (
        world.staff["districtadmin1"].id,
        secretary.id,
    )
    assert not services.second_factor.is_enrolled(secretary)
