"""A district may accept 2 right answers of 3 (security_questions.required_correct = 2)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from idp.config import Settings
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.recovery.errors import AnswersWrongError
from idp.services import Services
from tests.builders import DEFAULT_ANSWERS, edited_policies, make_account


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The shipped policies, with two right answers of three enough."""
    old, new = "required_correct = 3", "required_correct = 2"
    return replace(settings, policy_dir=edited_policies(tmp_path, "credentials.toml", old, new))


def _token(services: Services) -> str:
    make_account(services)
    services.recovery.request_reset("parentuser1")
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    context = services.recovery_messages.prepare_reset(message)
    assert context is not None
    return parse_qs(urlsplit(context["reset_url"]).query)["token"][0]


def _answers(services: Services, values: tuple[str, ...]) -> dict[str, str]:
    keys = services.policies.credentials.security_questions.question_keys[:3]
    return dict(zip(keys, values, strict=True))


def test_two_right_answers_are_enough(services: Services) -> None:
    token = _token(services)
    two_right = (DEFAULT_ANSWERS[0], "wrong answer", DEFAULT_ANSWERS[2])

    proof = services.recovery.check_answers(token, _answers(services, two_right))

    assert services.policies.credentials.security_questions.required_correct == 2
    assert proof


def test_one_right_answer_is_not(services: Services) -> None:
    token = _token(services)
    one_right = (DEFAULT_ANSWERS[0], "wrong answer", "also wrong")

    with pytest.raises(AnswersWrongError):
        services.recovery.check_answers(token, _answers(services, one_right))
