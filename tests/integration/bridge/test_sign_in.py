"""Sign-in with IC credentials (mode `imported`): the bridge is tried only when no portal account
has the name, and a wrong IC password is throttled like any other failure."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.errors import PersonAlreadyHasAccountError
from idp.accounts.models import AccountState
from idp.audit.models import AuditEvent
from idp.bridge.errors import (
    AlreadyUpgradedError,
    BridgePersonUnknownError,
    LegacyAccountClosedError,
    UpgradeRequiredError,
)
from idp.credentials.errors import InvalidCredentialsError, SignInLockedError
from idp.credentials.models import SignInThrottle
from idp.extensions import db
from idp.roster.models import Person
from idp.services import Services
from tests.builders import make_account
from tests.conftest import START
from tests.integration.bridge.conftest import alert, make_legacy, sign_in
from tests.legacy import IC_PASSWORD

WRONG = "Campus-Legacy-2018"


def _lock_after(services: Services) -> int:
    return services.policies.credentials.lockout.lock_after_failures


@pytest.mark.parametrize("scheme", ["bcrypt", "pbkdf2_sha256", "pbkdf2_sha1", "salted_sha256"])
def test_right_ic_password_leads_to_the_upgrade_with_an_argon2id_hash(
    services: Services, guardian: Person, scheme: str
) -> None:
    credential = make_legacy(guardian, "ChenFamily7", scheme)

    with pytest.raises(UpgradeRequiredError) as caught:
        services.sign_in.sign_in(" chenfamily7 ", IC_PASSWORD)

    upgrade = caught.value.upgrade
    assert (upgrade.credential_id, upgrade.verified_at) == (credential.id, START)
    assert upgrade.password_hash.startswith("$argon2id$")
    assert services.hasher.verify(upgrade.password_hash, IC_PASSWORD)


@pytest.mark.parametrize("name", ["ChenFamily7", "nosuchuser1"], ids=["legacy", "unknown"])
def test_wrong_ic_password_locks_the_name_like_an_unknown_one(
    services: Services, guardian: Person, name: str
) -> None:
    make_legacy(guardian, "ChenFamily7")
    for _ in range(_lock_after(services)):
        with pytest.raises(InvalidCredentialsError):
            services.sign_in.sign_in(name, WRONG)

    with pytest.raises(SignInLockedError) as caught:
        services.sign_in.sign_in(name, IC_PASSWORD)

    assert caught.value.params == {"minutes": 1}


def test_one_failure_short_of_the_lock_the_right_ic_password_still_works_and_clears_them(
    services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    for _ in range(_lock_after(services) - 1):
        with pytest.raises(InvalidCredentialsError):
            services.sign_in.sign_in("ChenFamily7", WRONG)

    with pytest.raises(UpgradeRequiredError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)

    assert db.session.execute(select(SignInThrottle)).first() is None


def test_wrong_ic_password_page_gives_the_usual_answer_then_locks(
    client: FlaskClient, services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    answers = [sign_in(client, "ChenFamily7", WRONG) for _ in range(_lock_after(services))]

    locked = sign_in(client, "ChenFamily7", IC_PASSWORD)

    assert {response.status_code for response in answers} == {401}
    assert alert(answers[0].get_data(as_text=True)).startswith(
        "The username or password is not correct."
    )
    assert locked.status_code == 429
    assert alert(locked.get_data(as_text=True)) == "Too many attempts. Try again in 1 minutes."


def test_failures_are_audited_without_the_name_or_password(
    services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    with pytest.raises(InvalidCredentialsError):
        services.sign_in.sign_in("ChenFamily7", WRONG)

    events = db.session.execute(select(AuditEvent)).scalars().all()

    assert [(e.event, e.subject_account_id, e.data) for e in events] == [
        ("credentials:sign_in:failed", None, {})
    ]


def test_a_portal_account_with_the_name_is_checked_instead_of_the_bridge(
    services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    make_account(services, "chenfamily7", "someone@example.org")

    with pytest.raises(InvalidCredentialsError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)


def test_migrated_credential_with_the_right_password_names_the_portal_username(
    services: Services, guardian: Person
) -> None:
    credential = make_legacy(guardian, "w.chen")
    account = make_account(services, "WeiChen2026", "wei@example.org")
    credential.account_id, credential.migrated_at = account.id, START
    db.session.commit()

    with pytest.raises(AlreadyUpgradedError) as caught:
        services.sign_in.sign_in("w.chen", IC_PASSWORD)

    assert caught.value.params == {"username": "WeiChen2026"}


def test_migrated_credential_with_a_wrong_password_gets_the_usual_answer(
    services: Services, guardian: Person
) -> None:
    credential = make_legacy(guardian, "w.chen")
    account = make_account(services, "WeiChen2026", "wei@example.org")
    credential.account_id, credential.migrated_at = account.id, START
    db.session.commit()

    with pytest.raises(InvalidCredentialsError):
        services.sign_in.sign_in("w.chen", WRONG)


def test_migrated_credential_of_a_closed_account_sends_the_person_to_the_school(
    services: Services, guardian: Person
) -> None:
    credential = make_legacy(guardian, "w.chen")
    account = make_account(services, "WeiChen2026", "wei@example.org")
    account.state = AccountState.CANCELLED
    credential.account_id, credential.migrated_at = account.id, START
    db.session.commit()

    with pytest.raises(LegacyAccountClosedError):
        services.sign_in.sign_in("w.chen", IC_PASSWORD)


def test_guardian_who_already_registered_is_told_to_use_that_account(
    services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7")
    account = make_account(services, "WeiRegistered1", "wei@example.org")
    account.person_id = guardian.id
    db.session.commit()

    with pytest.raises(PersonAlreadyHasAccountError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)


def test_credential_without_a_person_cannot_be_upgraded(
    services: Services, guardian: Person
) -> None:
    credential = make_legacy(guardian, "ChenFamily7")
    credential.person_id = None
    db.session.commit()

    with pytest.raises(BridgePersonUnknownError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)


def test_a_hash_changed_by_hand_into_nonsense_is_refused_and_logged_without_it(
    services: Services, guardian: Person, caplog: pytest.LogCaptureFixture
) -> None:
    credential = make_legacy(guardian, "ChenFamily7", "pbkdf2_sha256")
    credential.verifier = "pbkdf2_sha256$1000$@@@@$secret-looking-hash"
    db.session.commit()

    with (
        caplog.at_level(logging.WARNING, logger="idp.bridge"),
        pytest.raises(InvalidCredentialsError),
    ):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)

    assert caplog.messages == [
        f"bridge:verifier:malformed credential_id={credential.id} legacy_hash_parts"
    ]


def test_a_credential_first_seen_through_the_url_has_no_hash_to_check_in_imported_mode(
    services: Services, guardian: Person
) -> None:
    make_legacy(guardian, "ChenFamily7", "remote")

    with pytest.raises(InvalidCredentialsError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)


def test_verification_is_audited_with_ids_only(services: Services, guardian: Person) -> None:
    credential = make_legacy(guardian, "ChenFamily7")
    with pytest.raises(UpgradeRequiredError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)

    events = db.session.execute(select(AuditEvent)).scalars().all()

    assert [(e.event, e.subject_account_id, e.data) for e in events] == [
        ("bridge:credential:verified", None, {"credential_id": credential.id})
    ]
