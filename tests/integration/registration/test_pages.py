"""Registration and forgot-username pages (test client; the SMTP journey is in test_journey)."""

from __future__ import annotations

import html
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.registration.messages import VERIFY_PURPOSE
from idp.services import Services
from tests.builders import csrf_token, make_account
from tests.integration.registration.conftest import STRONG_PASSWORD, Family, issue_key


def _alert(page: str) -> str:
    match = re.search(r'<div class="alert" role="alert" id="form-error">(.*?)</div>', page, re.S)
    assert match is not None, "no error message on the page"
    return html.unescape(match.group(1).strip())


def _post(client: FlaskClient, url: str, data: dict[str, str]) -> tuple[int, str, str]:
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(url, data={**data, "csrf_token": token})
    return response.status_code, response.get_data(as_text=True), response.location or ""


def _step_one(client: FlaskClient, family: Family, key: str) -> tuple[int, str, str]:
    return _post(
        client, "/register", {"person_id": family.guardian.sis_person_id, "activation_key": key}
    )


def _details(**overrides: str) -> dict[str, str]:
    return {
        "username": "MariaLee2026",
        "password": STRONG_PASSWORD,
        "password_again": STRONG_PASSWORD,
        "email": "maria.lee@example.org",
        "locale": "en",
        **overrides,
    }


def _accounts() -> int:
    return int(db.session.execute(select(func.count(Account.id))).scalar_one())


def test_registration_pages_lead_to_check_your_email(
    client: FlaskClient, services: Services, family: Family
) -> None:
    issued = issue_key(services, family)
    status, _, location = _step_one(client, family, issued.key)
    assert (status, location) == (302, "/register/account")

    status, _, location = _post(client, "/register/account", _details())
    page = client.get(location).get_data(as_text=True)

    account = services.accounts.find_by_username("MariaLee2026")
    assert (status, location) == (302, "/register/check-email")
    assert account is not None
    assert account.state == "pending_email"
    assert "maria.lee@example.org" in page
    assert "no-reply@portal.invalid" in html.unescape(page)  # the sender to look for


@pytest.mark.parametrize("key", ["0" * 32, "not a key"], ids=["wrong", "malformed"])
def test_wrong_key_gets_one_generic_message(
    client: FlaskClient, services: Services, family: Family, key: str
) -> None:
    issue_key(services, family)

    status, page, _ = _step_one(client, family, key)

    assert status == 400
    assert _alert(page).startswith("This Person ID and activation key do not work together.")


def test_used_key_gets_the_same_generic_message(
    client: FlaskClient, services: Services, family: Family, clock: FrozenClock
) -> None:
    issued = issue_key(services, family)
    _step_one(client, family, issued.key)
    _post(client, "/register/account", _details())
    account = services.accounts.find_by_username("MariaLee2026")
    assert account is not None
    services.registration.verify_email(services.links.make(account.id, VERIFY_PURPOSE))

    status, page, _ = _step_one(client, family, issued.key)

    assert status == 400
    assert _alert(page).startswith("This Person ID and activation key do not work together.")


def test_step_two_without_step_one_goes_back_to_step_one(client: FlaskClient) -> None:
    response = client.get("/register/account")

    assert (response.status_code, response.location) == (302, "/register")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password_again": "something else entirely"}, "The two passwords are not the same."),
        ({"email": ""}, "Please enter your email address."),
        ({"username": ""}, "Please choose a username."),
    ],
)
def test_form_errors_create_nothing(
    client: FlaskClient,
    services: Services,
    family: Family,
    overrides: dict[str, str],
    message: str,
) -> None:
    _step_one(client, family, issue_key(services, family).key)
    before = _accounts()

    status, page, _ = _post(client, "/register/account", _details(**overrides))

    assert status == 200
    assert message in html.unescape(page)
    assert _accounts() == before


def test_taken_username_is_said_on_submit(
    client: FlaskClient, services: Services, family: Family
) -> None:
    make_account(services, username="marialee2026", email="other@example.org")
    _step_one(client, family, issue_key(services, family).key)

    status, page, _ = _post(client, "/register/account", _details())

    assert status == 409
    assert _alert(page) == "This username is already taken. Please choose another one."


def test_live_username_check_needs_step_one(client: FlaskClient) -> None:
    response = client.get("/register/username-available?username=MariaLee2026")

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("username", "available", "message"),
    [
        ("MariaLee2026", True, "This username is available."),
        ("parentuser1", False, "This username is already taken. Please choose another one."),
        ("Maria Lee", False, "A username has 8 to 20 characters"),
    ],
)
def test_live_username_check_after_step_one(
    client: FlaskClient,
    services: Services,
    family: Family,
    username: str,
    available: bool,
    message: str,
) -> None:
    make_account(services, username="ParentUser1", email="other@example.org")
    _step_one(client, family, issue_key(services, family).key)

    body = client.get(f"/register/username-available?username={username}").get_json()

    assert body["available"] is available
    assert body["message"].startswith(message)


def _registered(client: FlaskClient, services: Services, family: Family) -> Account:
    _step_one(client, family, issue_key(services, family).key)
    _post(client, "/register/account", _details())
    account = services.accounts.find_by_username("MariaLee2026")
    assert account is not None
    return account


def test_confirmation_link_page_promises_the_account_soon(
    client: FlaskClient, services: Services, family: Family
) -> None:
    account = _registered(client, services, family)
    token = services.links.make(account.id, VERIFY_PURPOSE)

    response = client.get(f"/verify-email?token={token}&lang=en")

    db.session.refresh(account)
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "it should take no more than 15 minutes" in response.get_data(as_text=True)
    assert account.state == "provisioning"


def test_expired_link_page_offers_a_new_link(
    client: FlaskClient, services: Services, family: Family, clock: FrozenClock
) -> None:
    account = _registered(client, services, family)
    token = services.links.make(account.id, VERIFY_PURPOSE)
    clock.advance(hours=49)
    page = client.get(f"/verify-email?token={token}&lang=en").get_data(as_text=True)
    assert "This link has expired." in page

    response = client.post(
        "/verify-email/resend", data={"csrf_token": csrf_token(page), "token": token}
    )

    sent = db.session.execute(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.template == "verify_email")
    ).scalar_one()
    assert response.status_code == 200
    assert "We sent you a new link." in html.unescape(response.get_data(as_text=True))
    assert sent == 2


def test_used_link_says_so(client: FlaskClient, services: Services, family: Family) -> None:
    account = _registered(client, services, family)
    token = services.links.make(account.id, VERIFY_PURPOSE)
    client.get(f"/verify-email?token={token}")

    response = client.get(f"/verify-email?token={token}&lang=en")

    assert response.status_code == 409
    assert "This link was already used" in response.get_data(as_text=True)


def test_altered_link_is_a_clear_404(client: FlaskClient) -> None:
    response = client.get("/verify-email?token=abc.def.ghi&lang=en")

    assert response.status_code == 404
    assert "This link is not valid." in response.get_data(as_text=True)


def test_resend_from_check_email_page_waits_a_minute(
    client: FlaskClient, services: Services, family: Family, clock: FrozenClock
) -> None:
    _registered(client, services, family)

    status, page, _ = _post(client, "/register/check-email?lang=en", {})

    assert status == 429
    assert "Please wait 60 seconds" in _alert(page)


def _forgot(client: FlaskClient, email: str) -> tuple[int, str]:
    status, page, _ = _post(client, "/forgot-username?lang=en", {"email": email})
    return status, re.sub(r'name="csrf_token"[^>]*>', "", page)


def test_forgot_username_answers_the_same_for_known_and_unknown_email(
    client: FlaskClient, services: Services
) -> None:
    make_account(services, username="ParentUser1", email="known@example.org")

    known = _forgot(client, "known@example.org")
    unknown = _forgot(client, "unknown@example.org")

    assert known == unknown
    assert known[0] == 200
    assert "If an account uses this email address" in known[1]


def test_a_refused_second_registration_leaves_the_first_one_waiting(
    client: FlaskClient, services: Services, family: Family
) -> None:
    """Registering again replaces an unconfirmed registration, all or nothing: when the new
    one is refused after the old one was taken away (a username found taken at creation), the
    request's unit of work rolls the removal back (idp/web/transaction.py UseCases)."""
    key = issue_key(services, family).key
    _step_one(client, family, key)
    _post(client, "/register/account", _details(email="typo@exmaple.org"))
    make_account(services, username="takenname01", email="other@example.org")
    _step_one(client, family, key)

    status, _, _ = _post(client, "/register/account", _details(username="takenname01"))

    waiting = db.session.execute(
        select(Account.state).where(Account.email == "typo@exmaple.org")
    ).scalar_one()
    assert status == 409
    assert waiting == "pending_email"
