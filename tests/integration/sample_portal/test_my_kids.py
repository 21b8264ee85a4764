"""My Kids in the sample apps, against the real provider: the `students` claim read from
userinfo on every view, oldest child first, switching child, refresh and revocation."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.accounts.models import Account, AccountKind
from idp.clock import FrozenClock
from idp.extensions import db
from idp.oidc.models import OAuthToken
from idp.services import Services
from tests.builders import enroll, make_account, make_person, make_school
from tests.integration.oidc.live import Browser
from tests.integration.sample_portal.conftest import sign_in
from tests.integration.sample_portal.support import (
    Apps,
    Family,
    RpClock,
    child_tabs,
    shown_child,
)

HELP_TEXT = (
    "Don't see one of your children? A school links guardians to students. Contact the"
    " school your child attends; bring photo ID."
)


def _token_count(account: Account) -> int:
    db.session.expire_all()
    query = select(func.count(OAuthToken.id)).where(OAuthToken.account_id == account.id)
    return int(db.session.execute(query).scalar_one())


def test_opens_on_the_oldest_child_with_the_visible_children_oldest_first(
    apps: Apps, family: Family, browser: Browser
) -> None:
    page = sign_in(browser, apps.grades)

    assert browser.hops[-1].where.endswith("/my-kids")
    assert child_tabs(page) == [("Maya", True), ("Leo", False), ("Ava", False)]
    assert shown_child(page) == "Maya Nguyen"
    assert "Northfield High" in page
    assert "<dd>09</dd>" in page
    assert "May 2, 2011" in page
    assert "Grades for Maya" in page
    assert HELP_TEXT in unescape(page)
    assert "Noah" not in page  # restricted
    assert "Zoe" not in page  # her school's portal is not open


@pytest.mark.parametrize(
    ("requested", "shown"),
    [("Leo", "Leo Nguyen"), ("Ava", "Ava Nguyen"), ("Noah", "Maya Nguyen"), (None, "Maya Nguyen")],
    ids=["younger-child", "youngest-child", "restricted-child-id", "unknown-id"],
)
def test_switching_child_shows_that_child_and_an_unknown_id_the_oldest(
    apps: Apps, family: Family, browser: Browser, requested: str | None, shown: str
) -> None:
    sign_in(browser, apps.grades)
    student_id = family.ids[requested] if requested else "NOT-A-STUDENT"

    page = browser.go(f"{apps.grades}/my-kids?student={student_id}").text

    assert shown_child(page) == shown
    assert [name for name, _ in child_tabs(page)] == ["Maya", "Leo", "Ava"]
    assert ("Noah" in page) is False


def test_attendance_shows_its_own_panel_for_the_child(
    apps: Apps, family: Family, browser: Browser
) -> None:
    page = sign_in(browser, apps.attendance)

    assert "Attendance for Maya" in page
    assert "Sample data, not real attendance" in page


def test_a_roster_change_at_the_provider_shows_on_the_next_view(
    apps: Apps, family: Family, browser: Browser
) -> None:
    sign_in(browser, apps.grades)
    family.relationships["Leo"].is_active = False  # e.g. the nightly roster import
    db.session.commit()

    page = browser.go(f"{apps.grades}/my-kids").text

    assert child_tabs(page) == [("Maya", True), ("Ava", False)]


def test_guardian_without_visible_children_is_told_how_to_get_linked(
    apps: Apps, services: Services, browser: Browser
) -> None:
    make_account(services)

    page = sign_in(browser, apps.grades)

    assert "No children are linked to your account yet." in page
    assert HELP_TEXT in unescape(page)
    assert child_tabs(page) == []


def test_student_account_sees_their_own_school_and_grade(
    apps: Apps, services: Services, browser: Browser
) -> None:
    student = make_account(services, "student1", None, kind=AccountKind.STUDENT)
    person = make_person("student", None, given_name="Sam", family_name="Lee")
    enroll(person, make_school("DEMO-HS1", "Northfield High"), "10")
    student.person_id = person.id
    db.session.commit()

    page = sign_in(browser, apps.grades, username="student1")

    assert shown_child(page) == "Sam Lee"
    assert "My school" in page
    assert "Northfield High" in page
    assert "<dd>10</dd>" in page
    assert child_tabs(page) == []
    assert HELP_TEXT not in unescape(page)


def test_access_token_the_app_knows_is_expired_is_refreshed_first(
    apps: Apps, family: Family, browser: Browser, rp_clock: RpClock
) -> None:
    sign_in(browser, apps.grades)
    rp_clock.offset_seconds = 11 * 60  # policies/oidc.toml: access tokens live 10 minutes

    page = browser.go(f"{apps.grades}/my-kids").text

    assert shown_child(page) == "Maya Nguyen"
    assert _token_count(family.account) == 2  # the sign-in's, then the refresh's


def test_access_token_the_provider_refuses_is_refreshed_once(
    apps: Apps, family: Family, browser: Browser, clock: FrozenClock
) -> None:
    sign_in(browser, apps.grades)
    clock.advance(minutes=11)  # expired at the provider, not yet by the app's clock

    page = browser.go(f"{apps.grades}/my-kids").text

    assert shown_child(page) == "Maya Nguyen"
    assert _token_count(family.account) == 2


def test_revoked_tokens_end_the_apps_session(
    app: Flask, apps: Apps, family: Family, browser: Browser
) -> None:
    sign_in(browser, apps.grades)
    app.extensions["idp.logout"].end_access(family.account, "test")
    db.session.commit()

    page = browser.go(f"{apps.grades}/my-kids").text
    hops = browser.path()
    again = browser.go(f"{apps.grades}/my-kids").text

    host = apps.grades.removeprefix("http://")
    assert hops == [("GET", f"{host}/my-kids", 302), ("GET", f"{host}/", 200)]
    assert "You were signed out. Sign in again to continue." in page
    assert "Sign in with the district portal" in page
    assert "You were signed out." not in again  # said once
    assert "Sign in with the district portal" in again


def test_refresh_after_a_long_time_signs_out_when_the_provider_refuses(
    apps: Apps, family: Family, browser: Browser, clock: FrozenClock, rp_clock: RpClock
) -> None:
    sign_in(browser, apps.grades)
    clock.advance(days=15)  # policies/oidc.toml: refresh tokens idle out after 14 days
    rp_clock.offset_seconds = timedelta(days=15).total_seconds()

    page = browser.go(f"{apps.grades}/my-kids").text

    assert "You were signed out. Sign in again to continue." in page
