"""The staff desk's pages are accessible (issue 16.8): axe-core finds no WCAG 2 A or AA
violation on any of them, at 1280 px and at 320 px wide, where the page itself never scrolls
sideways (a wide table scrolls inside its own `.table-scroll` box); the sign-in's second step
and an action work with the keyboard alone, with the focus always visible."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.demo import DemoSummary
from idp.demo.data import DEMO_PASSWORD, demo_totp_secret
from idp.extensions import db
from idp.roster.models import Person, School
from idp.services import Services
from tests.browser.test_staff_desk_journey import sign_in_staff
from tests.builders import DEFAULT_PASSWORD, make_staff

# A school admin sees every page of the desk (the audit trail needs view_audit).
STAFF = "DemoStaffES1"
NEW_STAFF = "newsecretary1"  # no authenticator app yet: the set-up page
GUARDIAN = "DEMO-G2001"  # Maria Rivera, DemoParent1: an account with security questions
STUDENT = "DEMO-S1001"  # Sofia Rivera, Lakeview Elementary
UNREGISTERED = "DEMO-G2013"  # Priya Patel, no account: the activation key
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
WIDTHS = (1280, 320)
FOCUSED = "document.activeElement.outerHTML"
# The focused element draws an outline (the browser's focus ring, or the sheet's own).
FOCUS_IS_VISIBLE = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return element.matches(":focus-visible") && style.outlineStyle !== "none"
    && parseFloat(style.outlineWidth) > 0;
}"""


@dataclass
class Desk:
    """A browser at a given width, and the app behind it."""

    page: Page
    base_url: str
    clock: FrozenClock
    services: Services

    def sign_in(self) -> None:
        """The demo school admin, both steps."""
        sign_in_staff(self.page, self.base_url, self.clock, STAFF)

    def go(self, path: str) -> None:
        """Open a page of the app."""
        response = self.page.goto(f"{self.base_url}{path}")
        assert response is not None


def _person_id(sis_person_id: str) -> int:
    return db.session.execute(
        select(Person.id).where(Person.sis_person_id == sis_person_id)
    ).scalar_one()


def _account_id(username: str) -> int:
    return db.session.execute(select(Account.id).where(Account.username == username)).scalar_one()


def _password_step(desk: Desk, username: str, password: str) -> None:
    desk.go("/sign-in")
    desk.page.get_by_label("Username").fill(username)
    desk.page.get_by_label("Password").fill(password)
    desk.page.get_by_role("button", name="Sign in").click()


def _second_factor(desk: Desk) -> None:
    _password_step(desk, STAFF, DEMO_PASSWORD)
    expect(desk.page.get_by_role("heading", name="Second step")).to_be_visible()


def _second_factor_refused(desk: Desk) -> None:
    _second_factor(desk)
    desk.page.get_by_label("Code", exact=True).fill("000000")
    desk.page.get_by_role("button", name="Continue").click()
    expect(desk.page.get_by_role("alert")).to_be_visible()


def _set_up(desk: Desk) -> None:
    school = db.session.execute(select(School).where(School.sis_id == "DEMO-ES1")).scalar_one()
    make_staff(desk.services, school, NEW_STAFF)
    _password_step(desk, NEW_STAFF, DEFAULT_PASSWORD)
    expect(desk.page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()


def _recovery_codes(desk: Desk) -> None:
    _set_up(desk)
    secret = "".join(desk.page.locator("#manual-key").inner_text().split())
    desk.page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).at(desk.clock.now()))
    desk.page.get_by_role("button", name="Confirm and continue").click()
    expect(desk.page.locator("#recovery-codes li")).to_have_count(10)


def _dashboard(desk: Desk) -> None:
    desk.sign_in()


def _search_results(desk: Desk) -> None:
    desk.sign_in()
    desk.go("/staff/search?q=rivera")
    expect(desk.page.locator("#search-results")).to_be_visible()


def _guardian(desk: Desk) -> None:
    desk.sign_in()
    desk.go(f"/staff/people/{_person_id(GUARDIAN)}")
    expect(desk.page.locator("#relationships")).to_be_visible()


def _student(desk: Desk) -> None:
    desk.sign_in()
    desk.go(f"/staff/people/{_person_id(STUDENT)}")
    expect(desk.page.locator("#relationships")).to_be_visible()


def _action_refused(desk: Desk) -> None:
    desk.sign_in()
    desk.go(f"/staff/accounts/{_account_id('DemoParent1')}/reset-questions")
    desk.page.locator("#confirm-action").click()
    expect(desk.page.locator(".field-error")).to_have_count(2)


def _activation_key(desk: Desk) -> None:
    desk.sign_in()
    desk.go(f"/staff/people/{_person_id(UNREGISTERED)}/activation-key")
    desk.page.get_by_role("button", name="Issue the key and show the letter").click()
    expect(desk.page.locator(".field-error")).to_have_count(2)


def _letter(desk: Desk) -> None:
    desk.sign_in()
    desk.go(f"/staff/people/{_person_id(UNREGISTERED)}/activation-key")
    desk.page.get_by_label("Photo ID you checked").select_option(label="Driver's license")
    desk.page.get_by_label("Language of the letter").select_option(label="العربية")
    desk.page.get_by_label("I checked this guardian's photo ID in person").check()
    desk.page.get_by_role("button", name="Issue the key and show the letter").click()
    expect(desk.page.locator("#letter-key")).to_be_visible()


def _audit(desk: Desk) -> None:
    _letter(desk)  # an event of the staff member's school to list
    desk.go("/staff/audit")
    expect(desk.page.locator("#audit-events")).to_be_visible()


PAGES: dict[str, Callable[[Desk], None]] = {
    "second-factor": _second_factor,
    "second-factor-refused": _second_factor_refused,
    "set-up": _set_up,
    "recovery-codes": _recovery_codes,
    "dashboard": _dashboard,
    "search-results": _search_results,
    "guardian": _guardian,
    "student": _student,
    "action-refused": _action_refused,
    "activation-key-refused": _activation_key,
    "letter": _letter,
    "audit-trail": _audit,
}


@pytest.fixture(params=WIDTHS, ids=[f"{width}px" for width in WIDTHS])
def width(request: pytest.FixtureRequest) -> int:
    """The browser window's width in CSS pixels."""
    return int(request.param)


@pytest.fixture
def desk(
    browser: Browser,
    live_server: str,
    clock: FrozenClock,
    services: Services,
    demo: DemoSummary,
    width: int,
) -> Iterator[Desk]:
    """A fresh browser (no cookies) `width` pixels wide, in front of the demo district."""
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": 800})
    yield Desk(context.new_page(), live_server, clock, services)
    context.close()


def _violations(page: Page) -> str:
    """axe-core's report of the page's WCAG 2.0/2.1 A and AA violations ("" when none)."""
    results = Axe().run(page, options=AXE_OPTIONS)
    return results.generate_report() if results.violations_count else ""


@pytest.mark.parametrize("name", PAGES)
def test_staff_page_is_axe_clean_and_never_scrolls_sideways(
    desk: Desk, name: str, width: int
) -> None:
    PAGES[name](desk)

    report = _violations(desk.page)
    page_width = desk.page.evaluate("document.documentElement.scrollWidth")

    assert report == "", report
    assert page_width <= width


def _tab_to(page: Page, target: str, presses: int = 40) -> None:
    """Press Tab until `target` (a CSS selector) has the focus; each stop shows its focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUS_IS_VISIBLE), page.evaluate(FOCUSED)
        if page.evaluate("s => document.activeElement.matches(s)", target):
            return
    pytest.fail(f"{target} never got the focus")


@pytest.mark.parametrize("width", [1280], ids=["1280px"])
def test_staff_signs_in_with_the_keyboard_alone(desk: Desk) -> None:
    page = desk.page
    desk.go("/sign-in")

    _tab_to(page, "#username")
    page.keyboard.type(STAFF)
    _tab_to(page, "#password")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Second step")).to_be_visible()
    _tab_to(page, "#code")
    page.keyboard.type(pyotp.TOTP(demo_totp_secret(STAFF)).at(desk.clock.now()))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Staff desk", exact=True)).to_be_visible()


@pytest.mark.parametrize("width", [1280], ids=["1280px"])
def test_staff_emails_a_username_with_the_keyboard_alone(desk: Desk) -> None:
    desk.sign_in()
    page = desk.page
    desk.go(f"/staff/people/{_person_id(GUARDIAN)}")

    _tab_to(page, "a[href$='/username-reminder']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Email the username")).to_be_visible()
    _tab_to(page, "#confirm")
    page.keyboard.press("Space")
    _tab_to(page, "#confirm-action")
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_have_text(re.compile("username reminder is on its way"))
