"""Sign-in timing equaliser: an unknown name costs the same argon2 verification as a known one.

STYLE.md 4 (no account enumeration): the answer and the work done must not depend on whether
the name exists. The time itself is measured by bench/credentials_bench.py, not here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient

from idp.services import Services
from tests.builders import csrf_token, make_account

WRONG_PASSWORD = "not the password at all"


class FailedSignIn(NamedTuple):
    """What a failed sign-in shows and what it cost."""

    status: int
    page: str
    argon2_verifications: int


@pytest.fixture
def argon2_verifications(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of argon2's verify (the library under SecretHasher); one item per call."""
    calls: list[int] = []
    original: Callable[..., bool] = PasswordHasher.verify

    def counting_verify(self: PasswordHasher, *args: Any, **kwargs: Any) -> bool:
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    return calls


def _fail_sign_in(client: FlaskClient, username: str, calls: list[int]) -> FailedSignIn:
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    before = len(calls)
    response = client.post(
        "/sign-in", data={"username": username, "password": WRONG_PASSWORD, "csrf_token": token}
    )
    # The form echoes the typed name and carries a fresh CSRF token: neither tells names apart.
    page = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1…", response.get_data(as_text=True))
    return FailedSignIn(response.status_code, page.replace(username, "…"), len(calls) - before)


def test_unknown_name_and_wrong_password_cost_one_verification_and_look_the_same(
    client: FlaskClient, services: Services, argon2_verifications: list[int]
) -> None:
    make_account(services, username="parentuser1")

    wrong_password = _fail_sign_in(client, "parentuser1", argon2_verifications)
    unknown_name = _fail_sign_in(client, "nobodyhere99", argon2_verifications)

    assert wrong_password.argon2_verifications == unknown_name.argon2_verifications == 1
    assert wrong_password.status == unknown_name.status == 401
    assert wrong_password.page == unknown_name.page
    assert "The username or password is not correct." in unknown_name.page
