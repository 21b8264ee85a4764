"""Forgot password (link, questions, new password) and change password, through the service."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from idp.accounts.models import Account, AccountKind, AccountState
from idp.clock import FrozenClock
from idp.credentials.errors import CurrentPasswordWrongError, PasswordTooShortError
from idp.credentials.models import SecurityAnswer
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.oidc.models import SsoSession
from idp.recovery import errors
from idp.services import Services
from tests.builders import DEFAULT_ANSWERS, DEFAULT_PASSWORD, make_account

NEW_PASSWORD = "a brand new passphrase"


def _answers(services: Services, values: tuple[str, ...] = DEFAULT_ANSWERS) -> dict[str, str]:
    keys = services.policies.credentials.security_questions.question_keys[:3]
    return dict(zip(keys, values, strict=True))


def _queued(template: str) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.template == template)
    return list(db.session.execute(query).scalars())


def _reset_token(services: Services, account: Account) -> str:
    services.recovery.request_reset(account.username or "")
    (message,) = _queued("password_reset")
    context = services.recovery_messages.prepare_reset(message)
    assert context is not None
    return parse_qs(urlsplit(context["reset_url"]).query)["token"][0]


@pytest.fixture
def account(services: Services) -> Account:
    return make_account(services)


def test_reset_link_is_queued_for_a_guardian_with_questions(
    services: Services, account: Account
) -> None:
    services.recovery.request_reset("PARENTUSER1")

    assert [m.account_id for m in _queued("password_reset")] == [account.id]


def _student(services: Services) -> None:
    make_account(services, "student0001", None, kind=AccountKind.STUDENT)


def _no_questions(services: Services) -> None:
    make_account(services, "newparent01", "n@example.org", has_questions=False)


def _disabled(services: Services) -> None:
    make_account(services, "oldparent01", "o@example.org", state=AccountState.DISABLED)


@pytest.mark.parametrize(
    ("arrange", "username"),
    [
        (lambda services: None, "nosuchuser1"),
        (_student, "student0001"),
        (_no_questions, "newparent01"),
        (_disabled, "oldparent01"),
    ],
    ids=["unknown", "student", "no-questions", "disabled"],
)
def test_no_link_is_queued_for_an_account_that_cannot_recover(
    services: Services, arrange: object, username: str
) -> None:
    arrange(services)  # type: ignore[operator]

    services.recovery.request_reset(username)

    # A message is queued for every name (the same work either way), naming no one.
    (message,) = _queued("password_reset")
    assert (message.recipient, message.account_id) == ("", None)
    assert services.recovery_messages.prepare_reset(message) is None


def test_right_answers_and_a_new_password_reset_the_account(
    services: Services, account: Account
) -> None:
    proof = services.recovery.check_answers(_reset_token(services, account), _answers(services))

    services.recovery.reset_password(proof, NEW_PASSWORD)

    assert services.sign_in.sign_in("parentuser1", NEW_PASSWORD).id == account.id
    assert [m.account_id for m in _queued("password_changed")] == [account.id]


def test_reset_ends_every_sso_session(services: Services, account: Account) -> None:
    services.sso.start(account.id, amr=["pwd"], acr="urn:test")
    db.session.commit()
    proof = services.recovery.check_answers(_reset_token(services, account), _answers(services))

    services.recovery.reset_password(proof, NEW_PASSWORD)

    live = select(SsoSession).where(SsoSession.ended_at.is_(None))
    assert db.session.execute(live).first() is None


def test_link_works_only_until_the_password_changes(services: Services, account: Account) -> None:
    token = _reset_token(services, account)
    proof = services.recovery.check_answers(token, _answers(services))
    services.recovery.reset_password(proof, NEW_PASSWORD)

    with pytest.raises(errors.ResetLinkInvalidError):
        services.recovery.open_link(token)
    with pytest.raises(errors.ResetLinkInvalidError):
        services.recovery.reset_password(proof, "yet another passphrase")


def test_right_answers_with_an_expired_link_fail(
    services: Services, account: Account, clock: FrozenClock
) -> None:
    token = _reset_token(services, account)
    clock.advance(minutes=31)

    with pytest.raises(errors.ResetLinkExpiredError):
        services.recovery.check_answers(token, _answers(services))


def test_wrong_answers_are_refused(services: Services, account: Account) -> None:
    token = _reset_token(services, account)

    with pytest.raises(errors.AnswersWrongError):
        services.recovery.check_answers(token, _answers(services, ("rex", "oslo", "hill")))


def test_fifth_wrong_answer_locks_recovery_even_with_right_answers(
    services: Services, account: Account, clock: FrozenClock
) -> None:
    token = _reset_token(services, account)
    for _ in range(5):
        with pytest.raises(errors.AnswersWrongError):
            services.recovery.check_answers(token, _answers(services, ("a1a", "b2b", "c3c")))

    with pytest.raises(errors.RecoveryLockedError) as locked:
        services.recovery.check_answers(token, _answers(services))
    clock.advance(minutes=1)

    assert locked.value.params == {"minutes": 1}
    assert services.recovery.check_answers(token, _answers(services))


def test_new_password_must_follow_the_rules(services: Services, account: Account) -> None:
    proof = services.recovery.check_answers(_reset_token(services, account), _answers(services))

    with pytest.raises(PasswordTooShortError):
        services.recovery.reset_password(proof, "short one")

    assert services.sign_in.sign_in("parentuser1", DEFAULT_PASSWORD).id == account.id


def test_change_password_needs_the_current_one(services: Services, account: Account) -> None:
    with pytest.raises(CurrentPasswordWrongError):
        services.recovery.change_password(account, "not my password", NEW_PASSWORD, None)

    assert services.sign_in.sign_in("parentuser1", DEFAULT_PASSWORD).id == account.id


def test_change_password_keeps_this_session_and_ends_the_others(
    services: Services, account: Account
) -> None:
    this = services.sso.start(account.id, amr=["pwd"], acr="urn:test").sid
    other = services.sso.start(account.id, amr=["pwd"], acr="urn:test").sid
    db.session.commit()

    services.recovery.change_password(account, DEFAULT_PASSWORD, NEW_PASSWORD, this)

    ended = dict(db.session.execute(select(SsoSession.sid, SsoSession.ended_at)).all())
    assert (ended[this] is None, ended[other] is None) == (True, False)
    assert [m.account_id for m in _queued("password_changed")] == [account.id]


def test_a_question_taken_out_of_the_policy_is_still_asked(
    services: Services, account: Account
) -> None:
    row = db.session.execute(
        select(SecurityAnswer).where(SecurityAnswer.account_id == account.id).limit(1)
    ).scalar_one()
    row.question_key = "mother_maiden_name"  # in the catalogue, not in the shipped policy
    db.session.commit()

    asked = [key for key, _text in services.recovery.questions_for(account)]

    assert (
        "mother_maiden_name" not in services.policies.credentials.security_questions.question_keys
    )
    assert sorted(asked) == sorted(services.questions.chosen_keys(account))
    assert "mother_maiden_name" in asked
