"""staff.toml: the staff session, the second factor and which role may do which desk action."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from idp.policy import (
    STAFF_ACTIONS,
    STAFF_ROLES,
    PolicyError,
    StaffActions,
    StaffPolicy,
    load_policies,
)

SHIPPED_POLICIES = Path(__file__).resolve().parents[3] / "policies"
EVERYONE = ("secretary", "enrollment_specialist", "school_admin", "district_admin")
ADMINS = ("school_admin", "district_admin")


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A copy of the shipped policy files that a test may change."""
    return Path(shutil.copytree(SHIPPED_POLICIES, tmp_path / "policies"))


def _replace_in_staff(policy_dir: Path, old: str, new: str) -> None:
    file = policy_dir / "staff.toml"
    text = file.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise LookupError(f"{old!r} is not in staff.toml exactly once")
    file.write_text(text.replace(old, new), encoding="utf-8")


def _error(policy_dir: Path) -> str:
    with pytest.raises(PolicyError) as caught:
        load_policies(policy_dir)
    return str(caught.value)


def _shipped() -> StaffPolicy:
    return load_policies(SHIPPED_POLICIES).staff


def test_shipped_staff_session_and_second_factor_have_the_issues_numbers() -> None:
    staff = _shipped()

    assert (staff.session.idle_minutes, staff.session.absolute_hours) == (30, 10)
    assert staff.second_factor.lock_after_failures == 5
    assert staff.second_factor.lock_minutes == 15
    assert staff.second_factor.recovery_codes == 10


@pytest.mark.parametrize(
    ("action", "roles"),
    [
        ("issue_activation_key", EVERYONE),
        ("revoke_activation_key", EVERYONE),
        ("resend_verification", EVERYONE),
        ("resend_account_ready", EVERYONE),
        ("send_username_reminder", EVERYONE),
        ("clear_sign_in_lock", EVERYONE),
        ("cancel_account", ADMINS),
        ("restrict_guardian", ADMINS),
        ("lift_restriction", ADMINS),
        ("re_enable_account", ADMINS),
        ("reset_security_questions", ADMINS),
        ("set_student_password", ADMINS),
        ("sign_out_everywhere", ADMINS),
        ("view_audit", ADMINS),
        ("export_audit", ADMINS),
        ("reset_second_factor", ("district_admin",)),
        ("manage_staff", ("district_admin",)),
    ],
)
def test_shipped_actions_follow_the_issue(action: str, roles: tuple[str, ...]) -> None:
    assert _shipped().roles_for(action) == roles


def test_shipped_file_lists_every_desk_action() -> None:
    assert set(STAFF_ACTIONS) == {
        "issue_activation_key",
        "revoke_activation_key",
        "cancel_account",
        "restrict_guardian",
        "lift_restriction",
        "re_enable_account",
        "clear_sign_in_lock",
        "resend_verification",
        "resend_account_ready",
        "send_username_reminder",
        "reset_security_questions",
        "set_student_password",
        "sign_out_everywhere",
        "reset_second_factor",
        "view_audit",
        "export_audit",
        "manage_staff",
    }


def test_policy_roles_are_the_roles_the_database_accepts() -> None:
    from idp.staff.models import STAFF_ROLES as DATABASE_ROLES

    assert STAFF_ROLES == DATABASE_ROLES


@pytest.mark.parametrize(
    ("role", "action", "expected"),
    [
        ("secretary", "issue_activation_key", True),
        ("secretary", "cancel_account", False),
        ("school_admin", "cancel_account", True),
        ("school_admin", "manage_staff", False),
        ("district_admin", "manage_staff", True),
    ],
)
def test_allows_answers_from_the_action_table(role: str, action: str, expected: bool) -> None:
    assert _shipped().allows(role, action) is expected


def test_an_unknown_action_asked_in_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown staff action 'cancel'"):
        _shipped().roles_for("cancel")


def test_an_empty_list_means_nobody(policy_dir: Path) -> None:
    _replace_in_staff(
        policy_dir,
        'export_audit = ["school_admin", "district_admin"]',
        "export_audit = []",
    )

    assert load_policies(policy_dir).staff.roles_for("export_audit") == ()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            'cancel_account = ["school_admin", "district_admin"]',
            'cancel_account = ["school_admin", "principal"]',
            "staff.toml: actions.cancel_account: unknown role 'principal'; known: 'secretary',"
            " 'enrollment_specialist', 'school_admin', 'district_admin'",
            id="unknown-role",
        ),
        pytest.param(
            'cancel_account = ["school_admin", "district_admin"]',
            'cancel_account = ["school_admin", "school_admin"]',
            "staff.toml: actions.cancel_account: duplicate role 'school_admin'",
            id="duplicate-role",
        ),
        pytest.param(
            'cancel_account = ["school_admin", "district_admin"]',
            'cancel_account = "school_admin"',
            "staff.toml: actions.cancel_account: Input should be a valid list",
            id="string-where-list",
        ),
        pytest.param(
            'cancel_account = ["school_admin", "district_admin"]',
            'cancel_account = ["school_admin", "district_admin"]\ndelete_account = []',
            "staff.toml: actions.delete_account: unknown key",
            id="unknown-action",
        ),
        pytest.param(
            'cancel_account = ["school_admin", "district_admin"]',
            "",
            "staff.toml: actions.cancel_account: required key missing",
            id="missing-action",
        ),
        pytest.param(
            'manage_staff = ["district_admin"]',
            'manage_staff = ["school_admin"]',
            "staff.toml: actions.manage_staff: must include 'district_admin', or nobody could"
            " do it",
            id="manage-staff-without-district-admin",
        ),
        pytest.param(
            'reset_second_factor = ["district_admin"]',
            "reset_second_factor = []",
            "staff.toml: actions.reset_second_factor: must include 'district_admin', or nobody"
            " could do it",
            id="reset-second-factor-without-district-admin",
        ),
        pytest.param(
            "idle_minutes = 30",
            "idle_minutes = 31",
            "staff.toml: session.idle_minutes: Input should be less than or equal to 30",
            id="idle-above-aal2",
        ),
        pytest.param(
            "absolute_hours = 10",
            "absolute_hours = 13",
            "staff.toml: session.absolute_hours: Input should be less than or equal to 12",
            id="absolute-above-aal2",
        ),
        pytest.param(
            "lock_after_failures = 5",
            "lock_after_failures = 0",
            "staff.toml: second_factor.lock_after_failures: Input should be greater than or"
            " equal to 1",
            id="zero-failures",
        ),
        pytest.param(
            "lock_minutes = 15",
            "lock_minutes = 1441",
            "staff.toml: second_factor.lock_minutes: Input should be less than or equal to 1440",
            id="lock-above-a-day",
        ),
        pytest.param(
            "recovery_codes = 10",
            "recovery_codes = 2",
            "staff.toml: second_factor.recovery_codes: Input should be greater than or equal to 5",
            id="too-few-recovery-codes",
        ),
        pytest.param(
            "schema_version = 1\n",
            "",
            "staff.toml: schema_version: required key missing",
            id="schema-version-missing",
        ),
    ],
)
def test_refuses_a_bad_staff_file(policy_dir: Path, old: str, new: str, expected: str) -> None:
    _replace_in_staff(policy_dir, old, new)

    assert _error(policy_dir) == expected


def test_refuses_a_missing_staff_file(policy_dir: Path) -> None:
    (policy_dir / "staff.toml").unlink()

    assert _error(policy_dir) == f"staff.toml: file not found in {policy_dir}"


def test_tests_may_build_the_action_table_directly() -> None:
    actions = StaffActions(**dict.fromkeys(STAFF_ACTIONS, ("district_admin",)))

    assert actions.cancel_account == ("district_admin",)
