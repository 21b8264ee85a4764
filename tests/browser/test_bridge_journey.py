"""The demo's legacy Infinite Campus user moves to a portal account in a real browser on the
embedded default: IC username and password in the sign-in form, a new username (the IC one
breaks the rule), the confirmation link from the development mailbox, security questions."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from idp.cli import main
from idp.demo.data import DEMO_IC_PASSWORD

QUESTIONS = (
    ("first_pet_name", "biscuit"),
    ("birth_city", "taipei"),
    ("first_school", "lakeview"),
)

pytestmark = pytest.mark.dev_server


def _run(app: Flask, *args: str) -> None:
    result = app.test_cli_runner().invoke(main, list(args))
    assert result.exit_code == 0, result.output


def test_demo_ic_user_completes_the_upgrade(page: Page, server: str, app: Flask) -> None:
    _run(app, "demo", "load")

    page.goto(f"{server}/sign-in")
    page.get_by_label("Username").fill("demo.wchen")
    page.get_by_label("Password").fill(DEMO_IC_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Move to your portal account")).to_be_visible()
    expect(page.locator("#username-reason")).to_contain_text(
        "Your Infinite Campus username demo.wchen cannot be your portal username:"
    )
    page.get_by_label("Username").fill("WeiChen2019")
    page.get_by_label("Email address").fill("wei.chen@example.org")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    _run(app, "worker", "--once")
    page.goto(f"{server}/dev/mailbox")
    page.get_by_role("link", name=re.compile("Confirm")).first.click()
    page.locator(".mail-links a").first.click()
    expect(page.get_by_role("heading", name="Your security questions")).to_be_visible()
    for number, (question, answer) in enumerate(QUESTIONS, 1):
        page.get_by_label(f"Question {number}", exact=True).select_option(question)
        page.get_by_label(f"Answer {number}", exact=True).fill(answer)
    page.get_by_label("Your password").fill(DEMO_IC_PASSWORD)
    page.get_by_role("button", name="Save my security questions").click()

    expect(page.get_by_text("You are signed in as WeiChen2019.")).to_be_visible()
