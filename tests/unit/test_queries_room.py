"""STYLE.md 1, the queries room (issue 15.1): a capability's prebuilt hot-path statements live in
its queries.py, nowhere else in the capability.

A module-level assignment whose value builds a statement (select, insert, update, delete or
text, a chain from one, a call wrapping one, a dict of them, or a call of a module function
that builds one) is allowed only in queries.py. The records the rows are read into by name
have the statements' columns. Each scan has negative tests."""

from __future__ import annotations

import ast
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from idp.oidc import queries
from idp.oidc.tokens import AccountView, ClaimedRefresh, PersonView, RedeemedCode

IDP = Path(__file__).resolve().parents[2] / "idp"
PACKAGES = ("oidc", "credentials", "audit", "accounts")
BUILDERS = frozenset({"select", "insert", "update", "delete", "text"})


@cache
def _sources() -> dict[str, str]:
    """path under idp/ -> text, of every module of the capabilities with a queries room."""
    return {
        str(path.relative_to(IDP)): path.read_text(encoding="utf-8")
        for package in PACKAGES
        for path in sorted((IDP / package).rglob("*.py"))
    }


def _builder_names(tree: ast.Module) -> set[str]:
    """The names that build a statement here: the builders, and aliases such as
    `from sqlalchemy.dialects.postgresql import insert as postgresql_insert`."""
    names = set(BUILDERS)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            names.update(a.asname or a.name for a in node.names if a.name in BUILDERS)
    return names


def _called_name(call: ast.Call) -> str | None:
    """`select` of `select(...)`, `db.select(...)` or `sa.select(...)`."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        return call.func.attr
    return None


def _builds_statement(node: ast.AST, builders: set[str]) -> bool:
    """True if `node` calls a builder, outside any lambda."""
    if isinstance(node, ast.Lambda):
        return False
    if isinstance(node, ast.Call) and _called_name(node) in builders:
        return True
    return any(_builds_statement(child, builders) for child in ast.iter_child_nodes(node))


def _statement_constants(source: str) -> set[str]:
    """Names of the module-level assignments of `source` whose value builds a statement."""
    tree = ast.parse(source)
    builders = _builder_names(tree)
    functions = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and _builds_statement(node, builders)
    }
    found = set()
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        calls = [c for c in ast.walk(node.value) if isinstance(c, ast.Call)]
        if _builds_statement(node.value, builders) or any(
            _called_name(c) in functions for c in calls
        ):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found.update(ast.unparse(target) for target in targets)
    return found


def _outside_the_room(sources: dict[str, str]) -> dict[str, set[str]]:
    """module -> its statement constants, for every module but a queries.py."""
    found = {
        name: _statement_constants(text)
        for name, text in sources.items()
        if Path(name).name != "queries.py"
    }
    return {name: constants for name, constants in found.items() if constants}


def test_prebuilt_statements_live_in_the_queries_room() -> None:
    found = _outside_the_room(_sources())

    assert found == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("_LOOK_UP = select(T.a).where(T.b == bindparam('b'))", {"_LOOK_UP"}),
        ("GENERATION = db.select(T.generation)", {"GENERATION"}),
        ("_ONE_ROW = select(literal_column('1').label('one')).subquery()", {"_ONE_ROW"}),
        ("TOUCH: Any = (\n    update(T)\n    .where(T.id == 1)\n    .values(at=1)\n)", {"TOUCH"}),
        ("A = B = delete(T)", {"A", "B"}),
        ("_RAW = text('SELECT 1')", {"_RAW"}),
        ("OWNER = with_visible_students(select(T.a), T.b)", {"OWNER"}),
        (
            "from sqlalchemy.dialects.sqlite import insert as sqlite_insert\n"
            "_BY_DIALECT = {'sqlite': sqlite_insert(T).on_conflict_do_nothing()}",
            {"_BY_DIALECT"},
        ),
        ("def _build():\n    return select(T.a)\n\n_FIND = _build()", {"_FIND"}),
    ],
)
def test_a_statement_constant_is_found(source: str, expected: set[str]) -> None:
    assert _statement_constants(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "def find(session):\n    return session.execute(select(T.a)).all()",
        "IS_OFFLINE = (literal(' ') + T.scope + literal(' ')).contains(' x ')",
        "WITH_ANSWERS = with_expression(T.has, exists().where(T.id == 1))",
        "FIELDS = tuple(f.name for f in fields(Record))",
        "BUILD = lambda: select(T.a)",
        "class Model:\n    total = column_property(select(T.a).scalar_subquery())",
    ],
)
def test_what_builds_no_statement_at_import_is_not_found(source: str) -> None:
    assert _statement_constants(source) == set()


def test_a_queries_module_may_hold_statements() -> None:
    sources = {
        "audit/queries.py": "INSERT_EVENT = insert(AuditEvent)",
        "audit/service.py": "_INSERT = insert(AuditEvent)",
    }

    assert _outside_the_room(sources) == {"audit/service.py": {"_INSERT"}}


@pytest.mark.parametrize(
    ("record", "columns", "not_read"),
    [
        (AccountView, queries.ACCOUNT_COLUMNS, {"loaded_person", "loaded_student_rows"}),
        (PersonView, queries.PERSON_COLUMNS, set()),
        (ClaimedRefresh, queries.CLAIMED_COLUMNS, set()),
        (RedeemedCode, queries.REDEEMED_COLUMNS, {"sid"}),
    ],
)
def test_records_have_the_columns_of_their_statement(
    record: type[Any], columns: tuple[Any, ...], not_read: set[str]
) -> None:
    names = [field.name for field in fields(record) if field.name not in not_read]

    assert names == [column.key for column in columns]
