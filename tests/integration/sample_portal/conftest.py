"""The provider on a real loopback port, the Grades and Attendance sample apps on two more,
and a requests-based browser that follows every redirect across the three."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from idp.clock import FrozenClock
from idp.config import Settings
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD
from tests.conftest import base_settings
from tests.integration.oidc.live import Browser, serve
from tests.integration.sample_portal.support import (
    PORTAL_APPS,
    Apps,
    Family,
    RpClock,
    make_family,
    portal_settings,
    register_portal_apps,
    serve_portal,
    write_registrations,
)
from tests.ports import free_port


@pytest.fixture
def clock(clock: FrozenClock) -> FrozenClock:
    """Frozen at the real time: the apps check ID tokens with their own wall clock."""
    clock.set(datetime.now(UTC))  # noqa: TID251 - aligning the provider's clock with the apps'
    return clock


@pytest.fixture
def provider_port() -> int:
    """A free loopback port for the provider."""
    return free_port()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, provider_port: int) -> Settings:
    """Test settings whose issuer is where the provider is served."""
    return replace(
        base_settings(database_url, tmp_path / "instance"),
        issuer=f"http://127.0.0.1:{provider_port}",
    )


@pytest.fixture
def registrations(tmp_path: Path) -> Path:
    """The shipped grades and attendance registrations, moved to free ports."""
    ports = {name: free_port() for name in PORTAL_APPS}
    return write_registrations(tmp_path / "clients", ports)


@pytest.fixture
def provider(
    app: Flask, services: Services, clock: FrozenClock, registrations: Path, provider_port: int
) -> Iterator[str]:
    """The provider, with the two apps registered, on a real server."""
    register_portal_apps(services, clock, registrations)
    with serve(app, provider_port) as url:
        yield url


@pytest.fixture
def family(services: Services, clock: FrozenClock) -> Family:
    """parentuser1: Maya, Leo and Ava visible (oldest first); Noah restricted; Zoe's school
    not open."""
    return make_family(services, clock)


@pytest.fixture
def rp_clock() -> RpClock:
    """The apps' wall clock (a test may move it ahead)."""
    return RpClock()


@pytest.fixture
def apps(provider: str, registrations: Path, rp_clock: RpClock) -> Iterator[Apps]:
    """Grades and Attendance, each on the port its registration names."""
    grades = portal_settings(registrations, "grades", provider, rp_clock)
    attendance = portal_settings(registrations, "attendance", provider, rp_clock)
    with serve_portal(grades), serve_portal(attendance):
        yield Apps(provider, grades.base_url, attendance.base_url)


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A browser with no cookies."""
    agent = Browser()
    yield agent
    agent.close()


def sign_in(browser: Browser, app_url: str, username: str = "parentuser1") -> str:
    """Sign in at an app through the provider's sign-in page; return the page reached."""
    page = browser.go(f"{app_url}/sign-in")
    assert page.status_code == 200, browser.path()
    form = {"username": username, "password": DEFAULT_PASSWORD}
    landing = browser.submit(page, form)
    assert landing.status_code == 200, browser.path()
    return landing.text
