"""The sample portal apps in a real browser: sign in at Grades with a password, My Kids opens
on the oldest child, switch child, Attendance signs in without a password (single sign-on),
sign out through the provider, and the back-channel signs Grades out too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from idp.cli import main
from idp.clock import FrozenClock
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD
from tests.integration.sample_portal.support import (
    PORTAL_APPS,
    Apps,
    Family,
    make_family,
    portal_settings,
    register_portal_apps,
    serve_portal,
    write_registrations,
)
from tests.ports import free_port

pytestmark = pytest.mark.dev_server


@pytest.fixture
def clock(clock: FrozenClock) -> FrozenClock:
    """Frozen at the real time: the apps check ID tokens with their own wall clock."""
    clock.set(datetime.now(UTC))  # noqa: TID251 - aligning the provider's clock with the apps'
    return clock


@pytest.fixture
def family(services: Services, clock: FrozenClock) -> Family:
    """parentuser1: Maya, Leo and Ava visible; Noah restricted; Zoe's school not open."""
    return make_family(services, clock)


@pytest.fixture
def apps(server: str, services: Services, clock: FrozenClock, tmp_path: Path) -> Iterator[Apps]:
    """Grades and Attendance on free ports, registered with the provider for those ports."""
    directory = write_registrations(tmp_path / "clients", {app: free_port() for app in PORTAL_APPS})
    register_portal_apps(services, clock, directory)
    grades = portal_settings(directory, "grades", server)
    attendance = portal_settings(directory, "attendance", server)
    with serve_portal(grades), serve_portal(attendance):
        yield Apps(server, grades.base_url, attendance.base_url)


def _expect_children_oldest_first(page: Page, selected: str) -> None:
    tabs = page.get_by_role("navigation", name="Your children").get_by_role("link")
    expect(tabs).to_have_text(["Maya", "Leo", "Ava"])
    expect(page.locator('.child-tabs a[aria-current="page"]')).to_have_text(selected)
    expect(page.get_by_role("heading", name=f"{selected} Nguyen")).to_be_visible()


def _sign_in_with_password(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/")
    page.get_by_role("link", name="Sign in with the district portal").click()
    page.get_by_label("Username").fill("parentuser1")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_guardian_signs_in_once_for_both_apps_and_signs_out(
    page: Page, app: Flask, apps: Apps, family: Family
) -> None:
    provider_pages: list[str] = []
    page.on("request", lambda request: provider_pages.append(request.url))

    _sign_in_with_password(page, apps.grades)

    expect(page).to_have_url(f"{apps.grades}/my-kids")
    _expect_children_oldest_first(page, "Maya")
    expect(page.get_by_text("Northfield High")).to_be_visible()
    expect(page.get_by_role("heading", name="Grades for Maya")).to_be_visible()
    expect(page.get_by_text("Don't see one of your children?")).to_be_visible()
    expect(page.get_by_text("Noah")).to_have_count(0)
    expect(page.get_by_text("Zoe")).to_have_count(0)

    page.get_by_role("link", name="Leo").click()
    expect(page).to_have_url(re.compile(r"/my-kids\?student="))
    _expect_children_oldest_first(page, "Leo")
    expect(page.get_by_role("heading", name="Grades for Leo")).to_be_visible()

    provider_pages.clear()
    page.goto(f"{apps.attendance}/")
    page.get_by_role("link", name="Sign in with the district portal").click()
    expect(page).to_have_url(f"{apps.attendance}/my-kids")
    assert not [url for url in provider_pages if url.startswith(f"{apps.provider}/sign-in")]
    _expect_children_oldest_first(page, "Maya")
    expect(page.get_by_role("heading", name="Attendance for Maya")).to_be_visible()

    page.get_by_role("link", name="Sign out").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(apps.attendance)}/\?state="))
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in with the district portal")).to_be_visible()

    # The provider tells Grades through the back-channel (delivered by the outbox worker).
    assert app.test_cli_runner().invoke(main, ["worker", "--once"]).exit_code == 0
    page.goto(f"{apps.grades}/my-kids")
    expect(page).to_have_url(f"{apps.grades}/")
    expect(page.get_by_text("You were signed out. Sign in again to continue.")).to_be_visible()
