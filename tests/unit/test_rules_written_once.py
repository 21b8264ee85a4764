"""STYLE.md 1, "A rule is written once" (issue 15.5): the copies that were removed stay removed.

Each rule lives in its capability's rules.py, as a function and as the SQL expression that
statements are built from; rows are read into records by column name, never by position, and
idp/lifecycle/ reads no row by position at all. Each scan has negative tests."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pytest

IDP = Path(__file__).resolve().parents[2] / "idp"

# the IC username match: lower(ic_username) compared with ic_username_key(name)
IC_USERNAME_MATCH = (
    r"func\.lower\(\s*(LegacyCredential\.)?ic_username\b",
    r"\bic_username\.lower\(\)",
)

# pattern -> the one file that may hold it
RULES = {
    # the username match: lower(username) compared with username_key(typed)
    r"func\.lower\(\s*(Account\.)?username\b": "accounts/rules.py",
    r"lower\(text\(\"username\"\)\)": "accounts/models.py",  # the unique index it serves
    r"username\.strip\(\)\.lower\(\)": "accounts/rules.py",
    **dict.fromkeys(IC_USERNAME_MATCH, "bridge/rules.py"),
    r"lower\(text\(\"ic_username\"\)\)": "bridge/models.py",  # the unique index it serves
    # which children a guardian may see
    r"is_legal_guardian\.is_\(": "roster/rules.py",
    r"restricted_at\.is_\(None\)": "roster/rules.py",
}


@cache
def _all_sources() -> tuple[tuple[str, str], ...]:
    """(path under idp/, text) of every module but the migrations (frozen history)."""
    return tuple(
        (str(path.relative_to(IDP)), path.read_text(encoding="utf-8"))
        for path in sorted(IDP.rglob("*.py"))
        if "migrations" not in path.parts
    )


def _spelled_outside(pattern: str, home: str, sources: Iterable[tuple[str, str]]) -> set[str]:
    """The modules other than `home` whose text matches `pattern`."""
    return {name for name, text in sources if re.search(pattern, text)} - {home}


@pytest.mark.parametrize(("pattern", "home"), RULES.items())
def test_a_rule_is_spelled_out_only_in_its_rules_module(pattern: str, home: str) -> None:
    assert _spelled_outside(pattern, home, _all_sources()) == set()


@pytest.mark.parametrize(
    "source",
    [
        "select(LegacyCredential).where(func.lower(LegacyCredential.ic_username) == key)",
        "where(\n    func.lower(\n        LegacyCredential.ic_username\n    ).in_(chunk)\n)",
        "where(func.lower(ic_username) == name)",
        "found = {row.ic_username.lower(): row for row in rows}",
        "first_seen.setdefault(ic_username.lower(), number)",
    ],
)
def test_a_copy_of_the_ic_username_match_is_found(source: str) -> None:
    sources = [("bridge/legacy.py", source)]

    assert any(_spelled_outside(p, "bridge/rules.py", sources) for p in IC_USERNAME_MATCH)


def test_using_the_ic_username_rule_is_not_a_copy() -> None:
    source = (
        "select(LegacyCredential).where(\n"
        "    rules.ic_username_matches_sql(\n"
        "        LegacyCredential.ic_username, rules.ic_username_key(ic_username)\n"
        "    )\n"
        ")\n"
        "{rules.ic_username_key(row.ic_username): row for row in rows}\n"
        "ic_username=credential.ic_username, username=username.lower()"
    )
    sources = [("bridge/legacy.py", source), ("bridge/rules.py", "func.lower(ic_username)")]

    assert not any(_spelled_outside(p, "bridge/rules.py", sources) for p in IC_USERNAME_MATCH)


@pytest.mark.parametrize("package", ["oidc", "web"])
def test_the_token_paths_ask_the_account_rule_not_the_state(package: str) -> None:
    found = [
        name
        for name, text in _all_sources()
        if name.startswith(f"{package}/") and "AccountState.ACTIVE" in text
    ]

    assert found == [], "use idp.accounts.rules.can_receive_tokens"


def _record_classes(trees: dict[str, ast.Module]) -> set[str]:
    """Names of the dataclasses and NamedTuples defined in idp/."""
    names = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            decorators = [ast.unparse(decorator) for decorator in node.decorator_list]
            bases = [ast.unparse(base) for base in node.bases]
            if any(d.startswith("dataclass") for d in decorators) or "NamedTuple" in bases:
                names.add(node.name)
    return names


def _is_read_by_position(node: ast.AST) -> bool:
    """`row[0]`: a value taken from a row by position (`CONSTANT[0]` is no row)."""
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, int)
        and isinstance(node.value, ast.Name)
        and not node.value.id.isupper()
    )


def _is_positional_row_value(argument: ast.expr) -> bool:
    """`*row`, or `row[0]`: values taken from a row by position."""
    return isinstance(argument, ast.Starred) or _is_read_by_position(argument)


def _reads_by_position(source: str) -> list[str]:
    return [
        f"{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(ast.parse(source))
        if _is_read_by_position(node)
    ]


def test_records_are_built_from_rows_by_name_not_by_position() -> None:
    trees = {name: ast.parse(text) for name, text in _all_sources()}
    records = _record_classes(trees)

    found = [
        f"{name}:{node.lineno}: {ast.unparse(node)}"
        for name, tree in trees.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) in records
        and any(_is_positional_row_value(argument) for argument in node.args)
    ]

    assert found == []


def test_lifecycle_reads_rows_by_name() -> None:
    found = [
        f"{name}:{finding}"
        for name, text in _all_sources()
        if name.startswith("lifecycle/")
        for finding in _reads_by_position(text)
    ]

    assert found == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("ids = [row[0] for row in rows]", ["1: row[0]"]),
        ("purge(ids, [row[1] for row in rows if row[1]])", ["1: row[1]", "1: row[1]"]),
        ("ids = [row.id for row in rows]\nfirst = LIMITS[0]\nname = row.username", []),
    ],
)
def test_a_read_by_position_is_found(source: str, expected: list[str]) -> None:
    assert sorted(_reads_by_position(source)) == expected
