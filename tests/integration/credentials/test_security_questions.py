"""Security questions: choice rules, normalised answers, stored only as argon2 hashes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.accounts.models import Account, AccountKind
from idp.credentials import errors
from idp.credentials.models import SecurityAnswer
from idp.credentials.questions import normalize_answer
from idp.errors import DomainError
from idp.extensions import db
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, make_account

KEYS = ("first_pet_name", "birth_city", "first_school")


@pytest.fixture
def account(services: Services) -> Account:
    return make_account(services, username="parentuser1", has_questions=False)


def _answers(*values: str) -> dict[str, str]:
    return dict(zip(KEYS, values, strict=True))


def test_answers_are_stored_only_as_argon2_hashes(services: Services, account: Account) -> None:
    services.questions.set_answers(
        account, _answers("Rex", "Oslo", "Hill School"), DEFAULT_PASSWORD
    )

    hashes = db.session.execute(select(SecurityAnswer.answer_hash)).scalars().all()

    assert len(hashes) == 3
    assert all(value.startswith("$argon2id$") for value in hashes)
    assert not any(word in value.lower() for value in hashes for word in ("rex", "oslo", "hill"))


def test_answers_match_whatever_their_case_spacing_and_unicode_form(
    services: Services, account: Account
) -> None:
    services.questions.set_answers(
        account, _answers("São Paulo", "Oslo", "Hill School"), DEFAULT_PASSWORD
    )

    correct = services.questions.count_correct(
        account, _answers("  SA\u0303O   paulo ", "oslo", "hill  school")
    )

    assert correct == 3


def test_accents_still_count(services: Services, account: Account) -> None:
    services.questions.set_answers(
        account, _answers("São Paulo", "Oslo", "Hill School"), DEFAULT_PASSWORD
    )

    assert services.questions.count_correct(account, _answers("Sao Paulo", "x", "y")) == 0


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        ({"first_pet_name": "rex", "birth_city": "oslo"}, errors.QuestionsNotChosenError),
        (
            {"first_pet_name": "rex", "birth_city": "oslo", "no_such": "x"},
            errors.QuestionsNotChosenError,
        ),
        (_answers("ab", "Oslo", "Hill School"), errors.AnswerTooShortError),
        (_answers("Oslo", " OSLO ", "Hill School"), errors.AnswersRepeatedError),
        (_answers("parentuser1", "Oslo", "Hill School"), errors.AnswerContainsSecretError),
        (_answers("my parentuser1 name", "Oslo", "Hill"), errors.AnswerContainsSecretError),
        (_answers(DEFAULT_PASSWORD, "Oslo", "Hill School"), errors.AnswerContainsSecretError),
    ],
    ids=["two", "unknown-key", "short", "repeated", "username", "contains-username", "password"],
)
def test_refused_answers_change_nothing(
    services: Services, account: Account, answers: dict[str, str], error: type[DomainError]
) -> None:
    with pytest.raises(error):
        services.questions.set_answers(account, answers, DEFAULT_PASSWORD)

    assert db.session.execute(select(SecurityAnswer)).first() is None


def test_new_answers_replace_the_old_ones(services: Services, account: Account) -> None:
    services.questions.set_answers(account, _answers("Rex", "Oslo", "Hill"), DEFAULT_PASSWORD)
    other = {"first_car": "volvo", "favourite_book": "dune", "childhood_street": "elm"}

    services.questions.set_answers(account, other, DEFAULT_PASSWORD)

    assert services.questions.chosen_keys(account) == sorted(other)


def test_only_guardians_without_answers_must_choose(services: Services, account: Account) -> None:
    staff = make_account(services, "staffmember1", "s@school.example", kind=AccountKind.STAFF)
    required_before = services.questions.is_required(account)
    services.questions.set_answers(account, _answers("Rex", "Oslo", "Hill"), DEFAULT_PASSWORD)

    assert (required_before, services.questions.is_required(account)) == (True, False)
    assert services.questions.is_required(staff) is False


def test_normalisation_is_nfkc_casefold_and_single_spaces() -> None:
    fullwidth_hello = "\uff28\uff25\uff2c\uff2c\uff2f"  # NFKC folds it to "HELLO"

    assert normalize_answer(f"  {fullwidth_hello}\t  Wörld ") == "hello wörld"


DOTLESS = "I\u015f\u0131k"  # Turkish, with a dotless i: its capitals lower-case to a dotted i


def test_an_answer_with_a_dotless_i_matches_in_capitals(
    services: Services, account: Account
) -> None:
    services.questions.set_answers(account, _answers(DOTLESS, "Oslo", "Hill"), DEFAULT_PASSWORD)

    correct = services.questions.count_correct(account, _answers(DOTLESS.upper(), "oslo", "hill"))

    assert correct == 3


def test_an_answer_stored_with_the_earlier_normalisation_still_matches(
    services: Services, account: Account
) -> None:
    services.questions.set_answers(account, _answers("Rex", "Oslo", "Hill"), DEFAULT_PASSWORD)
    row = db.session.execute(
        select(SecurityAnswer).where(SecurityAnswer.question_key == KEYS[0])
    ).scalar_one()
    row.answer_hash = services.hasher.hash(DOTLESS.casefold())  # before issue 14: casefold only
    db.session.commit()

    assert services.questions.count_correct(account, _answers(DOTLESS, "oslo", "hill")) == 3
