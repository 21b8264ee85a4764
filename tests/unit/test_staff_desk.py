"""Issue 15.1: the use cases in which a staff member acts live in idp/staff/service.py
(StaffService) and are reached only through it.

A source scan of idp/: only idp/staff/ authorizes a staff member (`authorized_staff`, the
accounts a staff member may act on), only StaffService and the command line's edges take a
`staff_username`, and the capabilities' parts of the desk's use cases (the roster's
restriction of a relationship, a new activation key and revoking one, a cancellation,
re-enabling, clearing a sign-in lock, resetting security questions, a student's district
password, a second factor's reset) are called from idp/staff/ alone; idp/services.py only
builds them. Each check has a negative test.
"""

from __future__ import annotations

import ast
from pathlib import Path, PurePosixPath

import pytest

IDP = Path(__file__).resolve().parents[2] / "idp"
DESK = "staff/"
WIRING = "services.py"
# Who may act for which students: asked by the desk only.
AUTHORIZATION = {
    "authorized_staff",
    "authorized_for_school",
    "active_staff",
    "students_of",
    "students_of_person",
}
# The capabilities' parts of the desk's use cases, each defined in its owner's module.
DESK_PARTS = {
    "GuardianRestrictions": "roster/restrictions.py",
    "eligible_guardian": "registration/keys.py",
    "create_activation_key": "registration/keys.py",
    "find_cancellable": "lifecycle/service.py",
    "outstanding_keys": "registration/keys.py",
    "re_enable": "lifecycle/service.py",
    "SignInLocks": "credentials/service.py",
    "reset_answers": "credentials/questions.py",
    "set_account_password": "credentials/students.py",
}
# recovery's `send_set_password_link` is not listed: StaffService's use case has its name, and
# the edges call that one.
# `cancel`, `restrict`, `lift`, `clear` and `reset` are common words: a call counts when its
# receiver is named after the capability (`self._lifecycle.cancel`, `services.lifecycle.cancel`,
# `self._second_factor.reset`).
NAMED_RECEIVER_PARTS = {
    "cancel": "lifecycle",
    "restrict": "restrictions",
    "lift": "restrictions",
    "clear": "locks",
    "reset": "second_factor",
}


def _is_edge(path: str) -> bool:
    """The command line and the web pass a staff username on to StaffService."""
    parts = PurePosixPath(path).parts
    is_command_group = len(parts) == 2 and parts[1] == "cli.py"  # <capability>/cli.py
    return path == "cli.py" or parts[0] == "web" or is_command_group


def _names(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, name) of every name, attribute and imported name of the module."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom | ast.Import):
            found.extend((node.lineno, alias.name.rpartition(".")[2]) for alias in node.names)
    return found


def authorization_violations(path: str, source: str) -> list[str]:
    """Uses of the staff authorization outside idp/staff/."""
    if path.startswith(DESK):
        return []
    return sorted(
        {
            f"{path}:{line} authorizes staff with {name}"
            for line, name in _names(ast.parse(source))
            if name in AUTHORIZATION
        }
    )


def staff_username_violations(path: str, source: str) -> list[str]:
    """Functions taking a `staff_username` outside StaffService and the edges."""
    if path.startswith(DESK) or _is_edge(path):
        return []
    return [
        f"{path}:{node.lineno} {node.name} takes a staff_username"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and "staff_username" in {arg.arg for arg in (*node.args.args, *node.args.kwonlyargs)}
    ]


def _receiver(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def desk_part_violations(path: str, source: str) -> list[str]:
    """Calls of (or, for the wiring, anything but building) the capabilities' parts of the
    desk's use cases outside idp/staff/."""
    if path.startswith(DESK):
        return []
    found = set()
    tree = ast.parse(source)
    for line, name in _names(tree):
        if DESK_PARTS.get(name) not in (None, path) and not (
            path == WIRING and name == "GuardianRestrictions"
        ):
            found.add(f"{path}:{line} reaches {name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = NAMED_RECEIVER_PARTS.get(node.func.attr)
            if receiver is not None and receiver in _receiver(node.func.value):
                found.add(f"{path}:{node.lineno} reaches {node.func.attr}")
    return sorted(found)


def _modules() -> list[tuple[str, str]]:
    """(path under idp/, source) of every module but the migrations."""
    return [
        (path.relative_to(IDP).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(IDP.rglob("*.py"))
        if path.relative_to(IDP).parts[0] != "migrations"
    ]


@pytest.mark.parametrize(
    "rule", [authorization_violations, staff_username_violations, desk_part_violations]
)
def test_staff_use_cases_are_reached_only_through_the_staff_desk(rule: object) -> None:
    assert callable(rule)
    found = [violation for path, source in _modules() for violation in rule(path, source)]

    assert found == []


def test_the_staff_desk_offers_every_staff_use_case() -> None:
    from idp.staff.service import StaffService

    use_cases = {name for name in vars(StaffService) if not name.startswith("_")}

    assert use_cases >= {
        "restrict_guardian",
        "lift_restriction",
        "issue_activation_key",
        "revoke_activation_key",
        "find_account",
        "re_enable_account",
        "clear_sign_in_lock",
        "resend_verification",
        "resend_account_ready",
        "send_username_reminder",
        "reset_security_questions",
        "set_student_password",
        "sign_out_everywhere",
        "reset_second_factor",
        "cancel_account",
        "create_staff_account",
        "send_set_password_link",
        "grant",
        "revoke",
        "assignments",
    }


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("lifecycle/service.py", "from idp.staff.access import authorized_staff", "authorized"),
        ("roster/x.py", "import idp.staff.access as a\na.authorized_staff(s, u, [])", "authorized"),
        ("registration/keys.py", "from idp.staff import access\naccess.students_of(s, a)", "stud"),
        ("web/x.py", "from idp.staff.access import students_of_person", "students_of_person"),
    ],
)
def test_staff_authorized_outside_the_desk_is_found(path: str, source: str, expected: str) -> None:
    assert expected in " ".join(authorization_violations(path, source))


def test_a_staff_username_outside_the_desk_is_found() -> None:
    source = "class S:\n    def cancel(self, username, staff_username, reason):\n        pass\n"

    assert staff_username_violations("lifecycle/service.py", source) == [
        "lifecycle/service.py:2 cancel takes a staff_username"
    ]
    assert staff_username_violations("lifecycle/cli.py", source) == []
    assert staff_username_violations("cli.py", source) == []


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("lifecycle/cli.py", "services.lifecycle.cancel('a', 's', 'r')", "reaches cancel"),
        ("web/staff.py", "services.staff._lifecycle.cancel(account)", "reaches cancel"),
        ("cli.py", "services.staff._keys.create_activation_key(p, s, 'x')", "create_activation"),
        ("roster/cli.py", "from idp.roster.restrictions import GuardianRestrictions", "Guardian"),
        ("roster/cli.py", "self._restrictions.lift(relationship)", "reaches lift"),
        ("web/x.py", "keys.eligible_guardian('P-1', 'passport')", "eligible_guardian"),
        ("recovery/service.py", "self._lifecycle.find_cancellable(name)", "find_cancellable"),
        ("web/x.py", "services().keys.outstanding_keys(person.id)", "outstanding_keys"),
        ("lifecycle/cli.py", "services.lifecycle.re_enable(account)", "reaches re_enable"),
        ("web/x.py", "SignInLocks(sign_in, students).clear(account)", "reaches SignInLocks"),
        ("web/x.py", "services().sign_in_locks.clear(account)", "reaches clear"),
        ("web/x.py", "services().questions.reset_answers(account)", "reset_answers"),
        ("cli.py", "services.student_sign_in.set_account_password(a, p)", "set_account_pass"),
        ("web/x.py", "services().second_factor.reset(account, None, 'r')", "reaches reset"),
    ],
)
def test_a_desk_part_reached_outside_the_desk_is_found(
    path: str, source: str, expected: str
) -> None:
    assert expected in " ".join(desk_part_violations(path, source))


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("services.py", "GuardianRestrictions(session, clock)"),
        (
            "registration/keys.py",
            "def create_activation_key(self): ...\nself.create_activation_key",
        ),
        ("notifications/outbox.py", "task.cancel()"),
        ("credentials/throttle.py", "self._failures.clear()"),
        ("web/staff_actions.py", "services().staff.reset_second_factor(1, 'admin1', 'r')"),
        ("web/staff_actions.py", "services().staff.send_set_password_link('u', 'admin1')"),
    ],
)
def test_building_defining_and_unrelated_calls_are_not_reported(path: str, source: str) -> None:
    assert desk_part_violations(path, source) == []
