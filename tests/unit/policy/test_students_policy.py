"""accounts.toml [students]: how students sign in and the student lockout, validated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from idp.policy import LockoutPolicy, PolicyError, StudentsPolicy, load_policies

SHIPPED_POLICIES = Path(__file__).resolve().parents[3] / "policies"


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A copy of the shipped policy files that a test may change."""
    return Path(shutil.copytree(SHIPPED_POLICIES, tmp_path / "policies"))


def _replace_in_accounts(policy_dir: Path, old: str, new: str) -> None:
    file = policy_dir / "accounts.toml"
    text = file.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise LookupError(f"{old!r} is not in accounts.toml exactly once")
    file.write_text(text.replace(old, new), encoding="utf-8")


def _error(policy_dir: Path) -> str:
    with pytest.raises(PolicyError) as caught:
        load_policies(policy_dir)
    return str(caught.value)


def test_shipped_policy_signs_students_in_with_id_and_birth_date() -> None:
    students = load_policies(SHIPPED_POLICIES).accounts.students

    assert students.login == "student_id_birthdate"
    assert students.lock_after_failures == 3


def test_shipped_student_lockout_is_tighter_than_the_password_lockout() -> None:
    policies = load_policies(SHIPPED_POLICIES)
    students, general = policies.accounts.students, policies.credentials.lockout

    assert students.lock_after_failures < general.lock_after_failures
    assert students.first_lock_minutes > general.first_lock_minutes
    assert students.max_lock_minutes > general.max_lock_minutes
    assert students.window_minutes > general.window_minutes


def test_district_password_is_accepted(policy_dir: Path) -> None:
    _replace_in_accounts(
        policy_dir, 'login = "student_id_birthdate"', 'login = "district_password"'
    )

    assert load_policies(policy_dir).accounts.students.login == "district_password"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'login = "student_id_birthdate"',
            'login = "email"',
            "accounts.toml: students.login: Input should be 'student_id_birthdate' or"
            " 'district_password'",
        ),
        (
            "lock_after_failures = 3",
            "lock_after_failures = 0",
            "accounts.toml: students.lock_after_failures: Input should be greater than or equal"
            " to 1",
        ),
        (
            "max_lock_minutes = 240",
            "max_lock_minutes = 2",
            "accounts.toml: students.max_lock_minutes: must not be less than"
            " students.first_lock_minutes (5)",
        ),
        (
            "ip_failures_per_hour = 60",
            "ip_failures_per_hour = 5",
            "accounts.toml: students.ip_failures_per_hour: must not be less than"
            " students.ip_failures_per_minute (10)",
        ),
        (
            "window_minutes = 60\n",
            'window_minutes = "60"\n',
            "accounts.toml: students.window_minutes: Input should be a valid integer",
        ),
        (
            "window_minutes = 60\n",
            "window_minutes = 60\nlock_minutes = 5\n",
            "accounts.toml: students.lock_minutes: unknown key",
        ),
    ],
    ids=[
        "unknown-login",
        "zero-failures",
        "max-below-first",
        "hour-below-minute",
        "string",
        "extra",
    ],
)
def test_refuses_a_bad_students_table(policy_dir: Path, old: str, new: str, expected: str) -> None:
    _replace_in_accounts(policy_dir, old, new)

    assert _error(policy_dir) == expected


def test_refuses_a_student_lockout_looser_than_the_password_lockout(policy_dir: Path) -> None:
    _replace_in_accounts(policy_dir, "lock_after_failures = 3", "lock_after_failures = 6")

    assert _error(policy_dir) == (
        "accounts.toml: students.lock_after_failures: must not be greater than credentials.toml"
        " lockout.lock_after_failures (5)"
    )


def test_refuses_accounts_file_without_students_table(policy_dir: Path) -> None:
    file = policy_dir / "accounts.toml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text[: text.index("[students]")], encoding="utf-8")

    assert _error(policy_dir) == "accounts.toml: students: required key missing"


def test_lockout_and_ip_limit_are_derived_from_the_table() -> None:
    students = StudentsPolicy(
        login="student_id_birthdate",
        lock_after_failures=2,
        first_lock_minutes=10,
        max_lock_minutes=80,
        window_minutes=30,
        ip_failures_per_minute=4,
        ip_failures_per_hour=40,
    )

    assert students.lockout == LockoutPolicy(
        lock_after_failures=2, first_lock_minutes=10, max_lock_minutes=80, window_minutes=30
    )
    assert students.ip_limit == "4/minute;40/hour"
