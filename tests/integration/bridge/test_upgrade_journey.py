"""The FAQ's first login of a legacy IC user, through the web pages: IC username and password in
the sign-in form -> email -> the emailed link -> security questions -> signed in; afterwards the
same password signs in against its argon2id hash."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.models import Account, AccountState
from idp.audit.models import AuditEvent
from idp.clock import FrozenClock
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.roster.models import Person
from idp.services import Services
from idp.web.session_models import BrowserSession
from tests.builders import csrf_token, make_account
from tests.conftest import START
from tests.integration.bridge.conftest import (
    alert,
    choose_questions,
    make_legacy,
    post_form,
    sign_in,
    verify_link,
)
from tests.legacy import IC_PASSWORD


def _sign_out(client: FlaskClient) -> None:
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302


@pytest.mark.parametrize("scheme", ["bcrypt", "pbkdf2_sha256", "pbkdf2_sha1", "salted_sha256"])
def test_ic_user_upgrades_and_then_signs_in_with_the_same_password_against_argon2(
    client: FlaskClient, services: Services, guardian: Person, scheme: str
) -> None:
    credential = make_legacy(guardian, "ChenFamily7", scheme)

    to_upgrade = sign_in(client, "chenfamily7")
    assert to_upgrade.headers["Location"] == "/upgrade"
    page = client.get("/upgrade").get_data(as_text=True)
    assert "Your portal username is ChenFamily7, as in Infinite Campus." in page
    created = post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    assert created.headers["Location"] == "/upgrade/check-email"
    assert "We sent a link to wei@example.org." in client.get("/upgrade/check-email").get_data(
        as_text=True
    )
    to_questions = client.get(client.get(verify_link(services, "wei@example.org")).location)
    assert to_questions.headers["Location"].startswith("/security-questions")
    assert choose_questions(client, services, to_questions.headers["Location"]).location == "/"
    assert "You are signed in as ChenFamily7." in client.get("/").get_data(as_text=True)
    _sign_out(client)

    again = sign_in(client, "ChenFamily7")

    assert again.headers["Location"] == "/"
    assert "You are signed in as ChenFamily7." in client.get("/").get_data(as_text=True)
    account = db.session.execute(
        select(Account).where(Account.person_id == guardian.id)
    ).scalar_one()
    db.session.refresh(credential)
    assert account.state == AccountState.ACTIVE
    assert (account.email, account.email_verified_at) == ("wei@example.org", START)
    assert account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$")
    assert services.hasher.verify(account.password_hash, IC_PASSWORD)
    assert (credential.account_id, credential.migrated_at) == (account.id, START)


def test_legacy_hash_is_not_changed_by_the_upgrade(
    client: FlaskClient, services: Services, guardian: Person
) -> None:
    credential = make_legacy(guardian, "ChenFamily7", "pbkdf2_sha256")
    before = (credential.scheme, credential.verifier)
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})

    client.get(verify_link(services, "wei@example.org"))

    db.session.refresh(credential)
    assert (credential.scheme, credential.verifier) == before


def test_ic_username_that_breaks_the_rule_is_replaced_by_a_chosen_one(
    client: FlaskClient, services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "w.chen")
    sign_in(client, "w.chen")
    page = client.get("/upgrade").get_data(as_text=True)
    assert "Your Infinite Campus username w.chen cannot be your portal username:" in page
    assert "A username has 8 to 20 characters, using only the letters A-Z and digits 0-9." in page

    post_form(
        client, "/upgrade", {"email": "wei@example.org", "username": "WeiChen2026", "locale": "en"}
    )
    client.get(verify_link(services, "wei@example.org"))

    account = db.session.execute(
        select(Account).where(Account.person_id == guardian.id)
    ).scalar_one()
    assert account.username == "WeiChen2026"


def test_ic_username_taken_meanwhile_is_replaced_with_the_reason_shown(
    client: FlaskClient, services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    make_account(services, "chenfamily7", "someone@example.org")  # registered in between

    page = client.get("/upgrade").get_data(as_text=True)

    assert "Your Infinite Campus username ChenFamily7 cannot be your portal username:" in page
    assert "This username is already taken. Please choose another one." in page


def test_chosen_username_that_breaks_the_rule_is_refused_with_the_rule(
    client: FlaskClient, guardian: Person
) -> None:
    make_legacy(guardian, "w.chen")
    sign_in(client, "w.chen")

    response = post_form(
        client, "/upgrade", {"email": "wei@example.org", "username": "wei", "locale": "en"}
    )

    assert response.status_code == 400
    assert alert(response.get_data(as_text=True)) == (
        "A username has 8 to 20 characters, using only the letters A-Z and digits 0-9."
    )
    assert (
        db.session.execute(select(Account).where(Account.person_id == guardian.id)).first() is None
    )


def test_email_in_use_is_refused_and_nothing_is_created(
    client: FlaskClient, services: Services, guardian: Person
) -> None:
    make_account(services, "OtherParent1", "Wei@Example.org")
    credential = make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")

    response = post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})

    assert response.status_code == 409
    assert alert(response.get_data(as_text=True)) == (
        "This email address is already used by another account. Each account needs its own"
        " email address."
    )
    db.session.refresh(credential)
    assert credential.account_id is None
    assert (
        db.session.execute(select(Account).where(Account.person_id == guardian.id)).first() is None
    )


def test_link_opened_in_another_browser_activates_but_does_not_sign_in(
    client: FlaskClient, services: Services, guardian: Person, app: Flask
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    other_browser = app.test_client()

    response = other_browser.get(verify_link(services, "wei@example.org"))

    assert response.status_code == 200
    assert "Sign in with your portal username ChenFamily7 and your password" in response.get_data(
        as_text=True
    )
    assert other_browser.get("/").headers["Location"].startswith("/sign-in")
    account = db.session.execute(
        select(Account).where(Account.person_id == guardian.id)
    ).scalar_one()
    assert account.state == AccountState.ACTIVE


def test_link_opened_long_after_the_ic_sign_in_activates_but_asks_to_sign_in(
    client: FlaskClient, services: Services, guardian: Person, clock: FrozenClock
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    clock.advance(minutes=31)

    response = client.get(verify_link(services, "wei@example.org"))

    assert response.status_code == 200
    assert "Your portal account is ready" in response.get_data(as_text=True)
    assert sign_in(client, "ChenFamily7").headers["Location"] == "/"


def test_upgrade_page_needs_a_recent_ic_sign_in(
    client: FlaskClient, guardian: Person, clock: FrozenClock
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    token = csrf_token(client.get("/upgrade").get_data(as_text=True))
    clock.advance(minutes=31)

    response = client.post("/upgrade", data={"email": "wei@example.org", "csrf_token": token})

    assert response.status_code == 400
    assert alert(response.get_data(as_text=True)) == (
        "For your security, please sign in again with your Infinite Campus username and password."
    )
    assert (
        db.session.execute(select(Account).where(Account.person_id == guardian.id)).first() is None
    )


def test_sending_the_upgrade_page_twice_makes_one_account(
    client: FlaskClient, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    token = csrf_token(client.get("/upgrade").get_data(as_text=True))
    form = {"email": "wei@example.org", "locale": "en", "csrf_token": token}
    client.post("/upgrade", data=form)

    again = client.post("/upgrade", data=form)

    assert again.status_code == 400
    assert "sign in again with your Infinite Campus username" in alert(again.get_data(as_text=True))
    accounts = db.session.execute(select(Account).where(Account.person_id == guardian.id)).all()
    assert len(accounts) == 1


@pytest.mark.parametrize("token", ["", "abc.def.ghi", "replaced"])
def test_a_link_that_is_not_a_live_upgrade_link_is_not_valid(
    client: FlaskClient, services: Services, guardian: Person, token: str
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    if token == "replaced":  # the link of an attempt replaced by a newer one
        token = verify_link(services, "wei@example.org").split("token=", 1)[1]
        sign_in(client, "ChenFamily7")
        post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})

    response = client.get(f"/upgrade/verify-email?token={token}")

    assert response.status_code == 404
    assert "This link is not valid." in response.get_data(as_text=True)


def test_upgrade_page_without_an_ic_sign_in_says_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/upgrade")

    assert response.status_code == 400
    assert "sign in again with your Infinite Campus username" in alert(
        response.get_data(as_text=True)
    )


def test_link_used_twice_says_the_account_is_ready(
    client: FlaskClient, services: Services, guardian: Person, app: Flask
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    link = verify_link(services, "wei@example.org")
    client.get(link)

    response = app.test_client().get(link)  # the same link again, from the mail program

    assert response.status_code == 409
    assert "This link was already used" in alert(response.get_data(as_text=True))


def test_expired_link_says_to_sign_in_with_ic_again_which_sends_a_new_one(
    client: FlaskClient, services: Services, guardian: Person, clock: FrozenClock
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    link = verify_link(services, "wei@example.org")
    hours = services.policies.lifecycle.registration.email_link_hours
    clock.advance(hours=hours, minutes=1)

    expired = client.get(link)
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    signed_in = client.get(verify_link(services, "wei@example.org"))

    assert expired.status_code == 410
    assert "Sign in again with your Infinite Campus username and password" in alert(
        expired.get_data(as_text=True)
    )
    assert signed_in.status_code == 302
    states = db.session.execute(
        select(Account.state).where(Account.person_id == guardian.id).order_by(Account.id)
    ).scalars()
    assert list(states) == [AccountState.REMOVED, AccountState.ACTIVE]


def test_signing_in_with_ic_again_replaces_an_upgrade_with_a_wrong_email(
    client: FlaskClient, services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@exmaple.org", "locale": "en"})

    again = sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    client.get(verify_link(services, "wei@example.org"))

    assert again.headers["Location"] == "/upgrade"
    accounts = db.session.execute(
        select(Account.state, Account.email)
        .where(Account.person_id == guardian.id)
        .order_by(Account.id)
    ).all()
    assert [tuple(row) for row in accounts] == [
        (AccountState.REMOVED, None),
        (AccountState.ACTIVE, "wei@example.org"),
    ]


def test_confirmation_email_names_the_kept_ic_username_before_the_account_has_it(
    client: FlaskClient, services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    message = db.session.execute(select(OutboxMessage)).scalar_one()

    context = services.registration_messages.prepare_verify_email(message)

    assert context is not None
    assert (context["username"], context["display_name"]) == ("ChenFamily7", "Wei Chen")
    assert str(context["verify_url"]).startswith("http://localhost/upgrade/verify-email?token=")


def test_ic_username_taken_before_the_link_is_used_asks_to_choose_another(
    client: FlaskClient, services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    make_account(services, "chenFAMILY7", "someone@example.org")

    response = client.get(verify_link(services, "wei@example.org"))

    assert response.status_code == 409
    assert "Someone else took the username ChenFamily7 in the meantime." in response.get_data(
        as_text=True
    )
    account = db.session.execute(
        select(Account).where(Account.person_id == guardian.id)
    ).scalar_one()
    assert (account.state, account.username) == (AccountState.PENDING_EMAIL, None)


def test_registration_link_page_does_not_accept_an_upgrade_link(
    client: FlaskClient, services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    token = verify_link(services, "wei@example.org").split("token=", 1)[1]

    response = client.get(f"/verify-email?token={token}")

    assert response.status_code == 404
    account = db.session.execute(
        select(Account).where(Account.person_id == guardian.id)
    ).scalar_one()
    assert account.state == AccountState.PENDING_EMAIL


def test_resend_on_the_check_email_page_sends_another_upgrade_link(
    client: FlaskClient, services: Services, guardian: Person, clock: FrozenClock
) -> None:
    make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    clock.advance(minutes=2)

    resent = post_form(client, "/upgrade/check-email", {})

    assert "We sent you a new link." in resent.get_data(as_text=True)
    assert verify_link(services, "wei@example.org").startswith("/upgrade/verify-email?token=")
    count = db.session.execute(
        select(db.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.template == "verify_email")
    ).scalar_one()
    assert count == 2


def test_sign_in_resumes_the_apps_request_after_the_upgrade(
    client: FlaskClient, services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    post_form(
        client, "/sign-in?next=/preferences", {"username": "ChenFamily7", "password": IC_PASSWORD}
    )
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})

    response = client.get(verify_link(services, "wei@example.org"))

    assert response.headers["Location"] == "/preferences"


def test_no_password_and_no_hash_reach_the_audit_trail_or_the_session_after_the_upgrade(
    client: FlaskClient, services: Services, guardian: Person
) -> None:
    credential = make_legacy(guardian, "ChenFamily7")
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    client.get(verify_link(services, "wei@example.org"))

    events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    sessions = db.session.execute(select(BrowserSession.data)).scalars().all()

    bridge_events = [(e.event, e.data) for e in events if e.event.startswith("bridge:")]
    assert bridge_events == [
        ("bridge:credential:verified", {"credential_id": credential.id}),
        ("bridge:upgrade:started", {"credential_id": credential.id}),
        ("bridge:credential:migrated", {"credential_id": credential.id}),
    ]
    stored = " ".join([*sessions, *(str(e.data) for e in events)])
    assert IC_PASSWORD not in stored
    assert "argon2" not in stored
