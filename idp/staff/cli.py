"""`idp staff …`: staff accounts and roles, kept by district IT, and the desk's actions.

The staff desk's command group (issues 16.1, 16.5), registered on the `idp` group by idp/cli.py.
Like every capability's cli.py it is an edge (tests/unit/test_layering.py): it may import Flask
and click. Its subcommands run in the app context (`idp.cli_support.CommandGroup`), each command
one unit of work. `create`, `send-password-link`, `grant`, `revoke` and `list` are district IT
on the server, trusted: they act as nobody (`acting=None`, audited `via: "command line"`); the
first staff account and district admin come from here, and so may a second factor's reset. The
desk's actions (`revoke-key`, `re-enable`, …) name the staff member doing them with `--staff`,
whose role and schools the desk checks as the console does (staff.toml [actions]).
"""

from __future__ import annotations

from typing import Any

import click
from flask import current_app

from idp.cli_support import CommandGroup, fail
from idp.policy.staff import STAFF_ROLES
from idp.staff.roles import RoleAssignment

_USERNAME = click.option("--username", required=True, help="The staff account's username.")
_ROLE = click.option("--role", required=True, type=click.Choice(STAFF_ROLES), help="The role.")
_SCHOOL = click.option(
    "--school", "school_code", help="The school's code (SIS id); left out for district_admin."
)
_STAFF = click.option(
    "--staff", "staff_username", required=True, help="Username of the staff member doing it."
)
_OPTIONAL_REASON = click.option("--reason", help="Why, for the audit trail (optional).")
_REASON = click.option("--reason", required=True, help="Why, for the audit trail.")
_ACCOUNT = click.option(
    "--account", "identifier", required=True, help="The username, or a student's student ID."
)


@click.group(cls=CommandGroup)
def staff() -> None:
    """Staff accounts and roles (policies/staff.toml), and the desk's actions."""


@staff.command("grant")
@_USERNAME
@_ROLE
@_SCHOOL
def staff_grant(username: str, role: str, school_code: str | None) -> None:
    """Give a staff account a role at a school, or district-wide for district_admin.
    Granting a role held already changes nothing."""
    _change(_desk().grant, username, role, school_code, ("granted", "already held"))


@staff.command("revoke")
@_USERNAME
@_ROLE
@_SCHOOL
def staff_revoke(username: str, role: str, school_code: str | None) -> None:
    """Take a role away from a staff account; the last district admin keeps theirs.
    Revoking a role not held changes nothing."""
    _change(_desk().revoke, username, role, school_code, ("revoked", "not held"))


def _desk() -> Any:
    """The staff desk (StaffService)."""
    return current_app.extensions["idp.services"].staff


def _run(use_case: Any, *args: Any) -> Any:
    """Run one of the desk's use cases; a refusal is printed and exits 1 (nothing changed)."""
    from idp.errors import DomainError

    try:
        return use_case(*args)
    except DomainError as error:
        fail(error)


def _on_account(use_case: Any, identifier: str, *args: Any) -> Any:
    """Run one of the desk's use cases on the account a username or student ID names."""
    return _run(lambda: use_case(_desk().find_account(identifier).id, *args))


def _change(
    use_case: Any, username: str, role: str, school_code: str | None, verbs: tuple[str, str]
) -> None:
    """Run the desk's grant or revoke and print what it did."""
    # acting=None: district IT on the server, trusted (audited via "command line").
    change = _run(lambda: use_case(username, role, school_code, acting=None))
    verb = verbs[0] if change.is_changed else f"{verbs[1]} (nothing changed)"
    click.echo(f"{verb}: {_line(change.assignment)}")


@staff.command("list")
@click.option("--username", help="Only this staff account's roles.")
def staff_list(username: str | None) -> None:
    """Print every staff role: username, role, school code or "district"."""
    from idp.errors import DomainError

    services = current_app.extensions["idp.services"]
    try:
        assignments = services.staff.assignments(username)
    except DomainError as error:
        fail(error)
    if not assignments:
        click.echo("no staff roles")
    for assignment in assignments:
        click.echo(_line(assignment))


def _line(assignment: RoleAssignment) -> str:
    """username, role, school code or "district", tab-separated."""
    return f"{assignment.username}\t{assignment.role}\t{assignment.school or 'district'}"


@staff.command("revoke-key")
@click.option("--person-id", required=True, help="The guardian's SIS Person ID.")
@_STAFF
@_OPTIONAL_REASON
def staff_revoke_key(person_id: str, staff_username: str, reason: str | None) -> None:
    """Revoke the guardian's activation key that could still register (a letter lost or
    given to the wrong person). A registration already waiting for its email stays."""
    key_ids = _run(_desk().revoke_activation_key, person_id, staff_username, reason)
    click.echo(f"revoked activation key {', '.join(map(str, key_ids))} of {person_id.strip()}")


@staff.command("re-enable")
@_ACCOUNT
@_STAFF
@_REASON
def staff_re_enable(identifier: str, staff_username: str, reason: str) -> None:
    """Turn an account the lifecycle disabled back on, after checking the owner's identity
    (say how in --reason); a new idle period starts now."""
    _on_account(_desk().re_enable_account, identifier, staff_username, reason)
    click.echo(f"re-enabled {identifier.strip()}")


@staff.command("clear-lock")
@_ACCOUNT
@_STAFF
@_OPTIONAL_REASON
def staff_clear_lock(identifier: str, staff_username: str, reason: str | None) -> None:
    """End an account's sign-in lock (too many failed sign-ins) before it runs out."""
    _on_account(_desk().clear_sign_in_lock, identifier, staff_username, reason)
    click.echo(f"sign-in lock cleared: {identifier.strip()}")


@staff.command("resend-verification")
@_ACCOUNT
@_STAFF
def staff_resend_verification(identifier: str, staff_username: str) -> None:
    """Send the email confirmation link again to a registration still waiting for it."""
    _on_account(_desk().resend_verification, identifier, staff_username)
    click.echo(f"confirmation email queued: {identifier.strip()}")


@staff.command("resend-account-ready")
@_ACCOUNT
@_STAFF
def staff_resend_account_ready(identifier: str, staff_username: str) -> None:
    """Send the "your account is ready" email again to an active account."""
    _on_account(_desk().resend_account_ready, identifier, staff_username)
    click.echo(f"account-ready email queued: {identifier.strip()}")


@staff.command("send-username-reminder")
@_ACCOUNT
@_STAFF
def staff_send_username_reminder(identifier: str, staff_username: str) -> None:
    """Email the account's username to its address, as "Forgot username" does."""
    _on_account(_desk().send_username_reminder, identifier, staff_username)
    click.echo(f"username reminder queued: {identifier.strip()}")


@staff.command("reset-questions")
@_ACCOUNT
@_STAFF
@_REASON
def staff_reset_questions(identifier: str, staff_username: str, reason: str) -> None:
    """Remove a guardian's security answers after checking their identity (say how in
    --reason): new questions are asked before their next sign-in goes on to an app."""
    _on_account(_desk().reset_security_questions, identifier, staff_username, reason)
    click.echo(f"security questions reset: {identifier.strip()}")


@staff.command("set-student-password")
@_ACCOUNT
@_STAFF
def staff_set_student_password(identifier: str, staff_username: str) -> None:
    """Set a student's district password (accounts.toml students.login = "district_password"),
    asked twice and never an option (shell history keeps options); the student's sessions end."""
    password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    _on_account(_desk().set_student_password, identifier, staff_username, password)
    click.echo(f"password set for student {identifier.strip()}")


@staff.command("sign-out-everywhere")
@_ACCOUNT
@_STAFF
@_OPTIONAL_REASON
def staff_sign_out_everywhere(identifier: str, staff_username: str, reason: str | None) -> None:
    """End every session and app token of an account; every app it signed in to is told."""
    _on_account(_desk().sign_out_everywhere, identifier, staff_username, reason)
    click.echo(f"signed out everywhere: {identifier.strip()}")


@staff.command("reset-second-factor")
@_USERNAME
@_REASON
@click.option(
    "--staff",
    "staff_username",
    help="The district admin doing it; left out, district IT on the server (trusted).",
)
def staff_reset_second_factor(username: str, reason: str, staff_username: str | None) -> None:
    """Remove a staff member's lost authenticator app and recovery codes: they set up a new
    one at their next sign-in."""
    _on_account(_desk().reset_second_factor, username, staff_username, reason)
    click.echo(f"second factor reset: {username.strip()}")


@staff.command("create")
@_USERNAME
@click.option("--email", required=True, help="The staff member's work email address.")
def staff_create(username: str, email: str) -> None:
    """Create a staff account without a password: a one-time link to choose one is emailed.
    Give it a role with `idp staff grant`."""
    # acting=None: district IT on the server, trusted (audited via "command line").
    account = _run(lambda: _desk().create_staff_account(username, email, acting=None))
    click.echo(
        f"created staff account {account.username}: the link to choose a password is emailed"
    )


@staff.command("send-password-link")
@_USERNAME
def staff_send_password_link(username: str) -> None:
    """Email a staff account that has no password yet a new one-time link to choose one (the
    first one expired or got lost)."""
    # acting=None: district IT on the server, trusted (audited via "command line").
    account = _run(lambda: _desk().send_set_password_link(username, acting=None))
    click.echo(f"the link to choose a password is emailed to staff account {account.username}")
