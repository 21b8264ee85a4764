"""argon2id hashing (argon2-cffi) with parameters from policies/credentials.toml."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from idp.policy import HashingPolicy

_T = TypeVar("_T")


class _HashLane:
    """Runs every argon2 computation of this process on one dedicated thread, in turn.

    Each hash allocates `memory_cost` KiB (19 MiB by default). glibc gives every thread its
    own malloc arena and keeps a freed block that size in it, so with gunicorn's request
    threads all hashing, each thread's arena held ~19 MiB for good (worker RSS 127 -> 184 MiB
    after the password benchmark). One hashing thread keeps one such block. On one core it
    costs no throughput (the hashes are CPU-bound and would take turns anyway); a deployment
    gives each core its own worker process, and so its own lane. Written by hand: this is a
    few lines around the standard library's executor, not a mechanism a library offers.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        os.register_at_fork(after_in_child=self._forget)  # the thread does not survive a fork

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._executor = None

    def run(self, work: Callable[[], _T]) -> _T:
        """The result of `work()`, computed on the lane's thread (its exception re-raised)."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")
            executor = self._executor
        return executor.submit(work).result()


_LANE = _HashLane()


class SecretHasher:
    """Hashes and verifies passwords and security answers; never keeps the clear text."""

    def __init__(self, policy: HashingPolicy) -> None:
        self._hasher = PasswordHasher(
            time_cost=policy.time_cost,
            memory_cost=policy.memory_cost_kib,
            parallelism=policy.parallelism,
            type=Type.ID,
        )
        # Verified against when a sign-in name is unknown, so both paths cost the same.
        self._dummy_hash = self.hash("not a real password: timing equaliser")

    def hash(self, secret: str) -> str:
        """An argon2id PHC string for the secret."""
        return _LANE.run(lambda: self._hasher.hash(secret))

    def verify(self, stored_hash: str | None, secret: str) -> bool:
        """True if the secret matches; an unknown account still spends one verification."""
        try:
            against = stored_hash or self._dummy_hash
            matches = _LANE.run(lambda: self._hasher.verify(against, secret))
            return matches and bool(stored_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the policy's."""
        return self._hasher.check_needs_rehash(stored_hash)
