"""A guardian signs in and out in a real browser, in English and in Arabic (right-to-left)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, make_account


def test_guardian_signs_in_and_out(page: Page, live_server: str, services: Services) -> None:
    make_account(services, username="DemoParent9")

    page.goto(f"{live_server}/")
    page.get_by_label("Username").fill("demoparent9")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_text("You are signed in as DemoParent9.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_wrong_password_shows_the_generic_message(
    page: Page, live_server: str, services: Services
) -> None:
    make_account(services, username="DemoParent9")

    page.goto(f"{live_server}/sign-in")
    page.get_by_label("Username").fill("DemoParent9")
    page.get_by_label("Password").fill("not the right one at all")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("The username or password is not correct.")


def test_arabic_page_is_right_to_left(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/sign-in?lang=ar")

    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")


def test_skip_link_is_the_first_thing_a_keyboard_reaches(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/sign-in")

    page.keyboard.press("Tab")

    expect(page.locator(":focus")).to_have_text("Skip to main content")
