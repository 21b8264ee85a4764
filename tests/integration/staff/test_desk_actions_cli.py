"""Issue 16.5: the desk's actions from the command line (`idp staff …`), one unit of work per
command: a smoke test of each command's success (exit 0, what it did) and refusal (exit 1, the
error's code). The use cases themselves are tested in test_desk_actions.py."""

from __future__ import annotations

import pytest
from click.testing import Result
from flask import Flask

from idp.accounts.models import AccountState
from idp.cli import main
from idp.clock import FrozenClock
from idp.credentials.errors import InvalidCredentialsError
from idp.extensions import db
from idp.services import Services
from tests.builders import make_account
from tests.integration.staff.test_desk_actions import (
    REASON,
    Desk,
    build_desk,
    events,
    state_of,
)
from tests.integration.staff.test_desk_actions_access import enroll_second_factor


@pytest.fixture
def desk(app: Flask, services: Services) -> Desk:
    """The school's desk of test_desk_actions.py."""
    return build_desk(services)


def _staff(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(main, ["staff", *args])


def test_revoke_key_prints_the_key_revoked(app: Flask, desk: Desk) -> None:
    result = _staff(app, "revoke-key", "--person-id", "G-2", "--staff", "secretary1")

    assert result.exit_code == 0, result.output
    assert result.output.startswith("revoked activation key ")
    assert result.output.rstrip().endswith(" of G-2")


def test_revoke_key_refused_exits_1(app: Flask, desk: Desk) -> None:
    result = _staff(
        app, "revoke-key", "--person-id", "G-2", "--staff", "otheradmin1", "--reason", REASON
    )

    assert result.exit_code == 1
    assert "idp: desk_action_not_allowed:" in result.output
    assert events("registration:key:revoked") == []


@pytest.fixture
def disabled(desk: Desk) -> Desk:
    """parentuser1 disabled (as the lifecycle sweep does)."""
    desk.guardian.state = AccountState.DISABLED
    db.session.commit()
    return desk


def test_re_enable_prints_the_account(app: Flask, disabled: Desk) -> None:
    result = _staff(
        app, "re-enable", "--account", "ParentUser1", "--staff", "schooladmin1", "--reason", REASON
    )

    assert result.exit_code == 0, result.output
    assert result.output == "re-enabled ParentUser1\n"
    assert state_of(disabled.guardian) == AccountState.ACTIVE


@pytest.mark.parametrize(
    ("account", "staff", "code"),
    [
        ("parentuser1", "secretary1", "desk_action_not_allowed"),
        ("nobody99x", "schooladmin1", "desk_account_not_found"),
    ],
)
def test_re_enable_refused_exits_1(
    app: Flask, disabled: Desk, account: str, staff: str, code: str
) -> None:
    result = _staff(app, "re-enable", "--account", account, "--staff", staff, "--reason", REASON)

    assert result.exit_code == 1
    assert f"idp: {code}:" in result.output
    assert state_of(disabled.guardian) == AccountState.DISABLED


def test_clear_lock_prints_the_account(app: Flask, services: Services, desk: Desk) -> None:
    for _ in range(services.policies.credentials.lockout.lock_after_failures):
        with pytest.raises(InvalidCredentialsError):
            services.sign_in.sign_in("parentuser1", "not the password")

    result = _staff(app, "clear-lock", "--account", "parentuser1", "--staff", "secretary1")

    assert result.exit_code == 0, result.output
    assert result.output == "sign-in lock cleared: parentuser1\n"


def test_clear_lock_refused_exits_1(app: Flask, desk: Desk) -> None:
    result = _staff(app, "clear-lock", "--account", "parentuser1", "--staff", "secretary1")

    assert result.exit_code == 1
    assert "idp: sign_in_not_locked:" in result.output


@pytest.mark.parametrize(
    ("command", "printed"),
    [
        ("resend-account-ready", "account-ready email queued: parentuser1"),
        ("send-username-reminder", "username reminder queued: parentuser1"),
    ],
)
def test_an_email_sent_again_prints_what_was_queued(
    app: Flask, desk: Desk, command: str, printed: str
) -> None:
    result = _staff(app, command, "--account", "parentuser1", "--staff", "secretary1")

    assert result.exit_code == 0, result.output
    assert result.output == f"{printed}\n"


def test_resend_verification_prints_what_was_queued(
    app: Flask, services: Services, desk: Desk
) -> None:
    make_account(services, "pendingparent2", "p2@example.org", state=AccountState.PENDING_EMAIL)

    result = _staff(
        app, "resend-verification", "--account", "pendingparent2", "--staff", "districtadmin1"
    )

    assert result.exit_code == 0, result.output
    assert result.output == "confirmation email queued: pendingparent2\n"


@pytest.mark.parametrize(
    "command", ["resend-verification", "resend-account-ready", "send-username-reminder"]
)
def test_an_email_asked_by_another_school_exits_1(app: Flask, desk: Desk, command: str) -> None:
    result = _staff(app, command, "--account", "parentuser1", "--staff", "otheradmin1")

    assert result.exit_code == 1
    assert "idp: desk_action_not_allowed:" in result.output


def test_reset_questions_prints_the_account(app: Flask, desk: Desk) -> None:
    result = _staff(
        app,
        "reset-questions",
        "--account",
        "parentuser1",
        "--staff",
        "schooladmin1",
        "--reason",
        REASON,
    )

    assert result.exit_code == 0, result.output
    assert result.output == "security questions reset: parentuser1\n"


def test_reset_questions_without_a_reason_exits_1(app: Flask, desk: Desk) -> None:
    result = _staff(
        app,
        "reset-questions",
        "--account",
        "parentuser1",
        "--staff",
        "schooladmin1",
        "--reason",
        "",
    )

    assert result.exit_code == 1
    assert "idp: desk_reason_required:" in result.output
    assert events("credentials:security_questions:reset") == []


def test_sign_out_everywhere_prints_the_account(app: Flask, desk: Desk) -> None:
    result = _staff(
        app, "sign-out-everywhere", "--account", "parentuser1", "--staff", "schooladmin1"
    )

    assert result.exit_code == 0, result.output
    assert result.output == "signed out everywhere: parentuser1\n"


def test_sign_out_everywhere_refused_exits_1(app: Flask, desk: Desk) -> None:
    result = _staff(app, "sign-out-everywhere", "--account", "parentuser1", "--staff", "secretary1")

    assert result.exit_code == 1
    assert "idp: desk_action_not_allowed:" in result.output
    assert events("oidc:access:ended") == []


@pytest.mark.parametrize("staff", [(), ("--staff", "districtadmin1")])
def test_reset_second_factor_from_the_command_line_or_by_a_district_admin(
    app: Flask, services: Services, clock: FrozenClock, desk: Desk, staff: tuple[str, ...]
) -> None:
    enroll_second_factor(services, clock, desk.staff["secretary1"])

    result = _staff(
        app, "reset-second-factor", "--username", "Secretary1", "--reason", REASON, *staff
    )

    assert result.exit_code == 0, result.output
    assert result.output == "second factor reset: Secretary1\n"
    assert not services.second_factor.is_enrolled(desk.staff["secretary1"])


def test_reset_second_factor_by_a_school_admin_exits_1(
    app: Flask, services: Services, clock: FrozenClock, desk: Desk
) -> None:
    enroll_second_factor(services, clock, desk.staff["secretary1"])

    result = _staff(
        app,
        "reset-second-factor",
        "--username",
        "secretary1",
        "--reason",
        REASON,
        "--staff",
        "schooladmin1",
    )

    assert result.exit_code == 1
    assert "idp: desk_action_not_allowed:" in result.output
    assert services.second_factor.is_enrolled(desk.staff["secretary1"])
