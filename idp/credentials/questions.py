"""Security questions: the catalogue, answer normalisation, hashed storage and checking."""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime

from flask_babel import LazyString, lazy_gettext
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session, with_expression
from sqlalchemy.orm.attributes import set_committed_value

from idp.accounts.models import Account, AccountKind
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.credentials.errors import (
    AnswerContainsSecretError,
    AnswersRepeatedError,
    AnswerTooShortError,
    QuestionsNotChosenError,
)
from idp.credentials.hashing import SecretHasher
from idp.credentials.models import SecurityAnswer
from idp.policy import SecurityQuestionPolicy

# Loader option for a query that reads an account: fill Account.has_security_answers in the
# same statement (the sign-in and every page's SSO-session lookup), so is_required asks nothing.
WITH_HAS_SECURITY_ANSWERS = with_expression(
    Account.has_security_answers, exists().where(SecurityAnswer.account_id == Account.id)
)

# Every key policies/credentials.toml may list, with its text (translated when shown).
QUESTION_TEXTS: dict[str, LazyString] = {
    "first_pet_name": lazy_gettext("What was the name of your first pet?"),
    "birth_city": lazy_gettext("In which city or town were you born?"),
    "first_school": lazy_gettext("What was the name of your first school?"),
    "childhood_best_friend": lazy_gettext("What was the first name of your childhood best friend?"),
    "mother_maiden_name": lazy_gettext("What was your mother's family name before marriage?"),
    "first_car": lazy_gettext("What was the make of your first car?"),
    "favourite_teacher": lazy_gettext("What was the family name of your favourite teacher?"),
    "childhood_street": lazy_gettext("On which street did you live as a child?"),
    "father_middle_name": lazy_gettext("What is your father's middle name?"),
    "first_job_town": lazy_gettext("In which town was your first job?"),
    "favourite_book": lazy_gettext("What is the title of your favourite book?"),
    "childhood_nickname": lazy_gettext("What was your nickname as a child?"),
    "childhood_favourite_food": lazy_gettext("What was your favourite food as a child?"),
    "oldest_cousin_name": lazy_gettext("What is the first name of your oldest cousin?"),
    "grandmother_village": lazy_gettext("In which town or village did your grandmother grow up?"),
}
MIN_ANSWER_LENGTH = 3
_SPACES = re.compile(r"\s+")


def normalize_answer(answer: str) -> str:
    """Case, runs of spaces and Unicode forms (NFKC) do not matter; accents do, since they are
    part of the answer: "  SÃO  paulo " matches "São Paulo", "Sao Paulo" does not.

    Upper-cased before case folding: a letter whose capital is shared (Turkish dotless and
    dotted i both capitalise to "I") matches however it was typed, which casefold() alone
    does not do (a hypothesis property found it). Of all code points only three polytonic
    Greek letters with iota subscript (U+1FB7, U+1FC7, U+1FF7) still differ by case."""
    spaced = _SPACES.sub(" ", unicodedata.normalize("NFKC", answer)).strip()
    return unicodedata.normalize("NFKC", spaced.upper().casefold())


def _legacy_normalize_answer(answer: str) -> str:
    """The normalisation of answers stored before the upper-casing (issue 14): kept so that
    they still match; differs from normalize_answer only for letters like the dotless i."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", answer)).strip().casefold()


class SecurityQuestionService:
    """Chooses, stores (argon2 hashes of normalised answers) and checks security answers."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        policy: SecurityQuestionPolicy,
        hasher: SecretHasher,
        audit: AuditLog,
    ) -> None:
        unknown = [key for key in policy.question_keys if key not in QUESTION_TEXTS]
        if unknown:
            # A policy key without a text would show users an empty question: refuse to start.
            raise ValueError(f"credentials.toml: security_questions: no text for {unknown}")
        self._session = session
        self._clock = clock
        self._policy = policy
        self._hasher = hasher
        self._audit = audit

    @property
    def policy(self) -> SecurityQuestionPolicy:
        """How many questions, how many must be right, from which catalogue."""
        return self._policy

    def catalogue(self) -> list[tuple[str, LazyString]]:
        """The questions a user may choose from, in policy order."""
        return [(key, QUESTION_TEXTS[key]) for key in self._policy.question_keys]

    def is_required(self, account: Account) -> bool:
        """Guardians must choose their questions before they can reach any app. Read from the
        account's `has_security_answers` when the query that loaded it asked for it
        (WITH_HAS_SECURITY_ANSWERS), else from the database."""
        if account.kind != AccountKind.GUARDIAN:
            return False
        has_answers = account.has_security_answers
        if has_answers is None:
            has_answers = bool(self.chosen_keys(account))
        return not has_answers

    def chosen_keys(self, account: Account) -> list[str]:
        """The question keys this account answered."""
        query = select(SecurityAnswer.question_key).where(SecurityAnswer.account_id == account.id)
        return sorted(self._session.execute(query).scalars())

    def set_answers(self, account: Account, answers: Mapping[str, str], password: str) -> None:
        """Replace the account's answers (all or nothing); raise why if refused."""
        normalised = self._checked(account, answers, password)
        now = self._clock.now()
        self._session.execute(delete(SecurityAnswer).where(SecurityAnswer.account_id == account.id))
        for key, answer in normalised.items():
            self._session.add(self._row(account, key, answer, now))
        self._audit.record("credentials:security_questions:set", subject_id=account.id)
        set_committed_value(account, "has_security_answers", True)

    def reset_answers(self, account: Account) -> bool:
        """Remove a guardian's answers, so that `is_required` asks for new questions before
        the next sign-in goes on to an app (staff reset them at the desk). False, and nothing
        changes, for an account that is asked none (not a guardian's) or has none yet. The
        caller records who and why."""
        if account.kind != AccountKind.GUARDIAN:
            return False
        removed = self._session.execute(
            delete(SecurityAnswer)
            .where(SecurityAnswer.account_id == account.id)
            .returning(SecurityAnswer.id)
        ).all()
        set_committed_value(account, "has_security_answers", False)
        return bool(removed)

    def questions_to_ask(self, account: Account) -> list[tuple[str, LazyString]]:
        """The account's questions and their texts, in a random order (recovery). A question
        district IT has since taken out of the policy is still asked: it was chosen."""
        keys = [key for key in self.chosen_keys(account) if key in QUESTION_TEXTS]
        random.SystemRandom().shuffle(keys)
        return [(key, QUESTION_TEXTS[key]) for key in keys]

    def count_correct(self, account: Account, answers: Mapping[str, str]) -> int:
        """How many of the given answers match (each costs one argon2 verification)."""
        rows = self._session.execute(
            select(SecurityAnswer).where(SecurityAnswer.account_id == account.id)
        ).scalars()
        return sum(
            self._matches(row.answer_hash, answers.get(row.question_key, "")) for row in rows
        )

    def _matches(self, answer_hash: str, answer: str) -> bool:
        normalised = normalize_answer(answer)
        if self._hasher.verify(answer_hash, normalised):
            return True
        legacy = _legacy_normalize_answer(answer)  # answers chosen before issue 14
        return legacy != normalised and self._hasher.verify(answer_hash, legacy)

    def _checked(
        self, account: Account, answers: Mapping[str, str], password: str
    ) -> dict[str, str]:
        keys = set(answers)
        if len(keys) != self._policy.count or not keys <= set(self._policy.question_keys):
            raise QuestionsNotChosenError(count=self._policy.count)
        normalised = {key: normalize_answer(value) for key, value in answers.items()}
        if any(len(value) < MIN_ANSWER_LENGTH for value in normalised.values()):
            raise AnswerTooShortError(min=MIN_ANSWER_LENGTH)
        if len(set(normalised.values())) != len(normalised):
            raise AnswersRepeatedError
        secrets = [normalize_answer(account.username or ""), normalize_answer(password)]
        for value in normalised.values():
            if any(secret and (secret in value or value in secret) for secret in secrets):
                raise AnswerContainsSecretError
        return normalised

    def _row(self, account: Account, key: str, answer: str, now: datetime) -> SecurityAnswer:
        return SecurityAnswer(
            account_id=account.id,
            question_key=key,
            answer_hash=self._hasher.hash(answer),
            created_at=now,
        )
