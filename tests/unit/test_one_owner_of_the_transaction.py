"""Issue 15.3: the edges own the transaction. A request, a command or a worker job commits its
unit of work once (idp/unit_of_work.py); services and the session store never commit or roll
back.

A source scan of idp/: a call of `.commit()`, `.rollback()` or `.begin()` outside the edges
(the unit of work, the command lines, the error pages) fails the test, except the two places
that own short transactions on purpose, each with its reason written here and in the module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

IDP = Path(__file__).resolve().parents[2] / "idp"
TRANSACTION_CALLS = {"commit", "rollback", "begin"}
EDGES = {
    "unit_of_work.py",  # the unit of work itself
    "cli_support.py",  # each command is one unit of work (CommandGroup)
    "web/errors.py",  # the error pages roll back what a failed request wrote
    "web/setup.py",  # the error page after a database failure rolls back first
}
ON_PURPOSE = {
    # Signing-key creation settles races between processes: each inserts, commits, then reads
    # what the others committed (module docstring). It runs once per install or rotation.
    "oidc/keys.py",
    # The outbox worker: claim, prepare, send, record, so that no transaction (or row lock) is
    # held while a message goes out over the network (issue 21).
    "notifications/outbox.py",
}


def transaction_calls(source: str) -> list[str]:
    """`x.commit()`, `session.rollback()`, `db.session.begin()`: each as `line: call`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in TRANSACTION_CALLS
            and not node.args
        ):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def _modules() -> list[tuple[str, str]]:
    return [
        (path.relative_to(IDP).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(IDP.rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _is_edge(module: str) -> bool:
    """The listed edges, and the command lines (`idp/cli.py`, `<capability>/cli.py`): a dry
    run rolls back its command's unit of work."""
    return module in EDGES | ON_PURPOSE or module.rsplit("/", 1)[-1] == "cli.py"


def test_no_service_commits_or_rolls_back() -> None:
    outside = [
        f"idp/{module}:{call}"
        for module, source in _modules()
        if not _is_edge(module)
        for call in transaction_calls(source)
    ]
    assert outside == []


def test_the_exceptions_still_exist() -> None:
    """An exception that no longer commits is taken off the list."""
    modules = dict(_modules())
    for module in EDGES | ON_PURPOSE:
        assert transaction_calls(modules[module]), module


@pytest.mark.parametrize(
    "source",
    [
        "self._session.commit()",
        "db.session.rollback()",
        "session.begin()",
        "def f(s):\n    if s:\n        s.commit()",
    ],
)
def test_the_scan_finds_a_commit(source: str) -> None:
    assert len(transaction_calls(source)) == 1


@pytest.mark.parametrize(
    "source",
    [
        "self._session.execute(stmt)",
        "self._session.begin_nested()",  # a savepoint stays inside the unit of work
        "limiter.commit('x')",  # not a session: takes an argument
    ],
)
def test_the_scan_leaves_the_rest(source: str) -> None:
    assert transaction_calls(source) == []
