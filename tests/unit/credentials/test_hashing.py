"""argon2id hashing with the policy's parameters."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from idp.credentials.hashing import SecretHasher
from idp.policy import HashingPolicy

POLICY = HashingPolicy(memory_cost_kib=19456, time_cost=2, parallelism=1)


@pytest.fixture(scope="module")
def hasher() -> SecretHasher:
    return SecretHasher(POLICY)


def test_hash_is_argon2id_with_policy_parameters(hasher: SecretHasher) -> None:
    stored = hasher.hash("a long pass phrase")

    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "a long pass phrase" not in stored


def test_verify_accepts_the_right_secret_only(hasher: SecretHasher) -> None:
    stored = hasher.hash("a long pass phrase")

    assert hasher.verify(stored, "a long pass phrase") is True
    assert hasher.verify(stored, "a long pass phrasE") is False


@pytest.mark.parametrize("stored", [None, "", "not-a-hash", "$argon2id$v=19$broken"])
def test_verify_is_false_without_a_usable_hash(hasher: SecretHasher, stored: str | None) -> None:
    assert hasher.verify(stored, "anything") is False


def test_weaker_old_hash_needs_rehash(hasher: SecretHasher) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("pw")

    assert hasher.needs_rehash(old) is True
    assert hasher.needs_rehash(hasher.hash("pw")) is False
