"""Staff sign-in's second step and the staff session (issue 16.1), through the pages."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.models import AccountKind
from idp.audit.models import AuditEvent
from idp.clock import FrozenClock
from idp.extensions import db
from idp.oidc.models import SsoSession
from idp.roster.models import School
from idp.services import Services
from tests.builders import csrf_token, make_account, make_school, make_staff
from tests.staff_desk import enrolled_staff, post_code, post_password, sign_in_staff, totp_code


@pytest.fixture
def school(app: Flask) -> School:
    school = make_school()
    db.session.commit()
    return school


def _live_sessions(account_id: int) -> list[SsoSession]:
    db.session.expire_all()
    query = select(SsoSession).where(SsoSession.account_id == account_id)
    return [row for row in db.session.execute(query).scalars() if row.ended_at is None]


def _signed_in_home(client: FlaskClient) -> str:
    """Where / sends the browser: the desk for signed-in staff, the sign-in page otherwise."""
    return client.get("/").headers.get("Location", "")


def test_the_password_alone_does_not_sign_staff_in(
    client: FlaskClient, services: Services, school: School
) -> None:
    staff = enrolled_staff(services, school)

    where = post_password(client, "secretary1")

    assert where.endswith("/sign-in/second-factor")
    assert "/sign-in" in _signed_in_home(client)
    assert _live_sessions(staff.id) == []
    assert client.get("/staff/").status_code == 302


def test_the_right_code_signs_in_to_the_desk_with_two_factors(
    client: FlaskClient, services: Services, school: School, clock: FrozenClock
) -> None:
    staff = enrolled_staff(services, school)
    post_password(client, "secretary1")

    status, where = post_code(client, totp_code(clock))

    assert status == 302
    assert where.endswith("/staff/")
    [sso] = _live_sessions(staff.id)
    assert sso.amr == ["pwd", "otp"]
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "Staff desk" in page.get_data(as_text=True)
    assert _signed_in_home(client).endswith("/staff/")


def test_a_wrong_code_is_refused_and_signs_nobody_in(
    client: FlaskClient, services: Services, school: School, clock: FrozenClock
) -> None:
    staff = enrolled_staff(services, school)
    post_password(client, "secretary1")
    right = {totp_code(clock, steps=step) for step in (-1, 0, 1)}
    wrong = next(code for code in ("000000", "111111", "222222") if code not in right)

    status, page = post_code(client, wrong)

    assert status == 401
    assert "That code is not correct." in page
    assert _live_sessions(staff.id) == []
    assert client.get("/staff/").status_code == 302


def test_a_code_used_once_is_refused_in_the_same_time_step(
    client: FlaskClient, app: Flask, services: Services, school: School, clock: FrozenClock
) -> None:
    staff = enrolled_staff(services, school)
    post_password(client, "secretary1")
    code = totp_code(clock)
    assert post_code(client, code)[0] == 302

    other = app.test_client()
    post_password(other, "secretary1")
    clock.advance(seconds=5)  # the same 30-second step (the clock starts on a step boundary)
    status, _ = post_code(other, code)

    assert status == 401
    assert len(_live_sessions(staff.id)) == 1


def test_a_recovery_code_signs_in_once(
    client: FlaskClient, app: Flask, services: Services, school: School, clock: FrozenClock
) -> None:
    make_staff(services, school, "secretary1")
    post_password(client, "secretary1")
    set_up = client.get("/sign-in/second-factor").headers["Location"]
    assert set_up.endswith("/sign-in/second-factor/set-up")
    secret = _manual_key(client.get(set_up).get_data(as_text=True))
    _, page = post_code(client, pyotp.TOTP(secret).at(clock.now()), set_up)
    codes = re.findall(r"<li><code>([a-z2-9-]+)</code></li>", page)
    assert len(codes) == services.policies.staff.second_factor.recovery_codes

    first, second = app.test_client(), app.test_client()
    post_password(first, "secretary1")
    assert post_code(first, codes[0])[0] == 302
    post_password(second, "secretary1")
    assert post_code(second, codes[0])[0] == 401


def _manual_key(page: str) -> str:
    match = re.search(r'<code id="manual-key" dir="ltr">([A-Z2-7 ]+)</code>', page)
    assert match is not None, page
    return match.group(1).replace(" ", "")


def test_first_sign_in_sets_up_the_app_with_an_inline_qr_code(
    client: FlaskClient, services: Services, school: School, clock: FrozenClock
) -> None:
    staff = make_staff(services, school, "secretary1")
    post_password(client, "secretary1")

    page = client.get("/sign-in/second-factor/set-up").get_data(as_text=True)
    again = client.get("/sign-in/second-factor/set-up").get_data(as_text=True)

    assert "<svg" in page
    assert "<image" not in page
    assert "http" not in page.split("<svg", 1)[1].split("</svg>")[0]
    secret = _manual_key(page)
    assert _manual_key(again) == secret  # a reload keeps the key the phone may have scanned
    status, codes_page = post_code(
        client, pyotp.TOTP(secret).at(clock.now()), "/sign-in/second-factor/set-up"
    )
    assert status == 200
    assert "Your recovery codes" in codes_page
    assert len(_live_sessions(staff.id)) == 1
    assert client.get("/staff/").status_code == 200


def test_a_wrong_first_code_enrolls_nothing(
    client: FlaskClient, services: Services, school: School, clock: FrozenClock
) -> None:
    staff = make_staff(services, school, "secretary1")
    post_password(client, "secretary1")
    secret = _manual_key(client.get("/sign-in/second-factor/set-up").get_data(as_text=True))
    right = {pyotp.TOTP(secret).at(clock.now(), counter_offset=step) for step in (-1, 0, 1)}
    wrong = next(code for code in ("000000", "111111", "222222") if code not in right)

    status, _ = post_code(client, wrong, "/sign-in/second-factor/set-up")

    assert status == 400
    assert not services.second_factor.is_enrolled(staff)
    assert _live_sessions(staff.id) == []


def test_the_second_step_waits_ten_minutes_at_most(
    client: FlaskClient, services: Services, school: School, clock: FrozenClock
) -> None:
    staff = enrolled_staff(services, school)
    post_password(client, "secretary1")
    token = csrf_token(client.get("/sign-in/second-factor").get_data(as_text=True))
    clock.advance(minutes=11)

    response = client.post(
        "/sign-in/second-factor", data={"code": totp_code(clock), "csrf_token": token}
    )

    assert response.status_code == 302
    where = response.headers["Location"]
    assert "/sign-in" in where
    assert "/second-factor" not in where
    assert _live_sessions(staff.id) == []


def test_the_staff_session_ends_after_30_idle_minutes(
    client: FlaskClient, services: Services, school: School, clock: FrozenClock
) -> None:
    staff = enrolled_staff(services, school)
    sign_in_staff(client, clock)
    clock.advance(minutes=29)
    assert client.get("/staff/").status_code == 200

    clock.advance(minutes=30, seconds=1)
    response = client.get("/staff/")

    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    assert _live_sessions(staff.id) == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your staff session ended" in page
    assert "after 30 minutes without use, or 10 hours" in page
    assert "Your staff session ended" not in client.get("/sign-in").get_data(as_text=True)


def test_the_staff_session_ends_after_10_hours_even_in_use(
    client: FlaskClient, services: Services, school: School, clock: FrozenClock
) -> None:
    staff = enrolled_staff(services, school)
    sign_in_staff(client, clock)
    for _ in range(29):  # a request every 20 minutes: 9 h 40 min
        clock.advance(minutes=20)
        assert client.get("/staff/").status_code == 200

    clock.advance(minutes=21)
    response = client.get("/staff/")

    assert response.status_code == 302
    assert _live_sessions(staff.id) == []


def test_staff_are_never_asked_for_security_questions(
    client: FlaskClient, services: Services, school: School, clock: FrozenClock
) -> None:
    enrolled_staff(services, school)  # staff accounts have no security answers
    sign_in_staff(client, clock)

    for path in ("/staff/", "/preferences"):
        response = client.get(path)
        assert "/security-questions" not in response.headers.get("Location", ""), path
    assert client.get("/staff/").status_code == 200


def test_a_guardian_gets_a_404_at_the_desk(
    client: FlaskClient, services: Services, school: School
) -> None:
    make_account(services)
    post_password(client, "parentuser1")

    assert client.get("/staff/").status_code == 404
    assert _signed_in_home(client) == ""  # the family's own page


def test_staff_without_any_role_get_a_404(
    client: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    staff = make_account(services, "norole01", "norole@school.example", kind=AccountKind.STAFF)
    services.second_factor.enroll_known_secret(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    db.session.commit()
    sign_in_staff(client, clock, "norole01")

    assert client.get("/staff/").status_code == 404


def test_failures_are_audited_without_the_code(
    client: FlaskClient, services: Services, school: School, clock: FrozenClock
) -> None:
    enrolled_staff(services, school)
    post_password(client, "secretary1")
    post_code(client, "999999" if totp_code(clock) != "999999" else "888888")

    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.event == "staff:second_factor:failed")
    ).scalars()
    [event] = list(events)
    assert "999999" not in str(event.data)
    assert "888888" not in str(event.data)


def test_staff_choose_spanish_for_the_desk_in_preferences(
    client: FlaskClient, services: Services, school: School, clock: FrozenClock
) -> None:
    enrolled_staff(services, school)
    sign_in_staff(client, clock)
    desk = client.get("/staff/").get_data(as_text=True)
    assert 'href="/preferences"' in desk
    token = csrf_token(client.get("/preferences").get_data(as_text=True))

    client.post("/preferences", data={"csrf_token": token, "channel": "email", "locale": "es"})

    assert '<html lang="es"' in client.get("/staff/").get_data(as_text=True)
