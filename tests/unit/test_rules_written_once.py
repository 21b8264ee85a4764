"""STYLE.md 1, "A rule is written once" (issue 15.5): the copies that were removed stay removed.

Each rule lives in its capability's rules.py, as a function and as the SQL expression that
statements are built from; rows are read into records by column name, never by position."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

IDP = Path(__file__).resolve().parents[2] / "idp"

# pattern -> the one file that may hold it
RULES = {
    # the username match: lower(username) compared with username_key(typed)
    r"func\.lower\(\s*(Account\.)?username\b": "accounts/rules.py",
    r"lower\(text\(\"username\"\)\)": "accounts/models.py",  # the unique index it serves
    r"username\.strip\(\)\.lower\(\)": "accounts/rules.py",
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


@pytest.mark.parametrize(("pattern", "home"), RULES.items())
def test_a_rule_is_spelled_out_only_in_its_rules_module(pattern: str, home: str) -> None:
    found = {name for name, text in _all_sources() if re.search(pattern, text)}

    assert found <= {home}


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


def _is_positional_row_value(argument: ast.expr) -> bool:
    """`*row`, or `row[0]`: values taken from a row by position (`CONSTANT[0]` is no row)."""
    if isinstance(argument, ast.Starred):
        return True
    return (
        isinstance(argument, ast.Subscript)
        and isinstance(argument.slice, ast.Constant)
        and isinstance(argument.slice.value, int)
        and isinstance(argument.value, ast.Name)
        and not argument.value.id.isupper()
    )


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
