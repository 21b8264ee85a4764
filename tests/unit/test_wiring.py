"""Wiring in one place, complete at construction (issue 15.2): idp/services.py gives every
service all its collaborators when it builds it; nothing is connected afterwards, and no
service can be left without the one path that ends access."""

from __future__ import annotations

import ast
from pathlib import Path

IDP = Path(__file__).resolve().parents[2] / "idp"


def connect_methods(source: str) -> list[str]:
    """`def connect_...` methods: a collaborator handed over after construction."""
    return [
        f"{node.lineno} {node.name}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("connect_")
    ]


def optional_access_checks(source: str) -> list[str]:
    """`if self._end_access is not None:` and the like: a wire that may be missing, and an
    account that would keep its access silently."""
    return [
        f"{number} {line.strip()}"
        for number, line in enumerate(source.splitlines(), 1)
        if ("_end_access" in line or "_logout" in line) and "is not None" in line
    ]


def _scan(check: object) -> list[str]:
    assert callable(check)
    return [
        f"{path.relative_to(IDP)}:{found}"
        for path in sorted(IDP.rglob("*.py"))
        for found in check(path.read_text(encoding="utf-8"))
    ]


def test_no_service_is_connected_after_construction() -> None:
    assert _scan(connect_methods) == []


def test_no_service_skips_ending_access_when_a_wire_is_missing() -> None:
    assert _scan(optional_access_checks) == []


def test_the_checks_find_what_they_look_for() -> None:
    source = (
        "class S:\n"
        "    def connect_logout(self, end):\n"
        "        self._end_access = end\n"
        "    def f(self):\n"
        "        if self._end_access is not None:\n"
        "            pass\n"
    )

    assert connect_methods(source) == ["2 connect_logout"]
    assert optional_access_checks(source) == ["5 if self._end_access is not None:"]
