"""Wiring in one place, complete at construction (issue 15.2): each capability has one
factory (`idp/<capability>/factory.py`) taking every collaborator by name, and idp/services.py
calls those factories in dependency order; nothing is connected afterwards, and no service can
be left without the one path that ends access."""

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


def factory_shape(source: str) -> list[str]:
    """What breaks "one factory, every collaborator by name, typed": a second public function,
    a positional or unannotated parameter, a missing return type."""
    tree = ast.parse(source)
    public = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    ]
    found = [] if len(public) == 1 else [f"{len(public)} public functions"]
    for node in public:
        arguments = node.args
        if arguments.posonlyargs or arguments.args or arguments.vararg or arguments.kwarg:
            found.append(f"{node.name} takes positional or variadic parameters")
        found.extend(
            f"{node.name}: {arg.arg} has no type"
            for arg in arguments.kwonlyargs
            if not arg.annotation
        )
        if node.returns is None:
            found.append(f"{node.name} has no return type")
    return found


def _factories() -> list[Path]:
    return sorted(IDP.glob("*/factory.py"))


def test_each_capability_has_one_factory_taking_every_collaborator_by_name() -> None:
    found = {
        str(path.relative_to(IDP)): factory_shape(path.read_text(encoding="utf-8"))
        for path in _factories()
    }

    assert len(found) >= 7
    assert {path: problems for path, problems in found.items() if problems} == {}


def test_services_py_is_the_list_of_the_factories() -> None:
    tree = ast.parse((IDP / "services.py").read_text(encoding="utf-8"))
    functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    factories = {
        node.name
        for path in _factories()
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    }

    assert functions == ["build_services"]
    assert factories <= called


def test_the_factory_check_finds_what_it_looks_for() -> None:
    source = (
        "def build_a(session, *, clock): ...\ndef build_b(*, clock: int): ...\ndef _helper(): ...\n"
    )

    assert factory_shape(source) == [
        "2 public functions",
        "build_a takes positional or variadic parameters",
        "build_a: clock has no type",
        "build_a has no return type",
        "build_b has no return type",
    ]
