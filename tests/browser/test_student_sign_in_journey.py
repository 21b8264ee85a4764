"""A student signs in with student ID and date of birth in a real browser, in English and in
Arabic (right-to-left), through the browser's own date input."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from idp.extensions import db
from idp.services import Services
from tests.builders import enroll, make_person, make_school


@pytest.fixture
def student(services: Services) -> None:
    """S-7001 at Lakeview Elementary (open), born 2014-03-14."""
    person = make_person("student", date(2014, 3, 14), sis_person_id="S-7001")
    enroll(person, make_school("DEMO-ES1", "Lakeview Elementary"), "06")
    db.session.commit()


@pytest.mark.usefixtures("student")
def test_student_follows_the_link_and_signs_in(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/sign-in")
    page.get_by_role("link", name="Student? Sign in with your student ID").click()

    page.get_by_label("Student ID").fill("s-7001")
    page.get_by_label("Date of birth").fill("2014-03-14")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_text("You are signed in with your student ID.")).to_be_visible()


@pytest.mark.usefixtures("student")
def test_wrong_date_of_birth_shows_the_generic_message(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/sign-in/student")

    page.get_by_label("Student ID").fill("S-7001")
    page.get_by_label("Date of birth").fill("2014-03-15")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "The student ID or date of birth is not correct."
    )


@pytest.mark.usefixtures("student")
def test_arabic_student_page_is_right_to_left_and_signs_in(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/sign-in/student?lang=ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")

    page.locator("#student_id").fill("S-7001")
    page.locator("#birth_date").fill("2014-03-14")
    page.locator("form button[type=submit]").click()

    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("form[action='/sign-out'] button")).to_be_visible()
