"""STYLE.md 1: domain packages never touch the request (no flask, no authlib.integrations)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

IDP = Path(__file__).resolve().parents[2] / "idp"
DOMAIN_PACKAGES = [
    "accounts",
    "audit",
    "bridge",
    "credentials",
    "lifecycle",
    "notifications",
    "oidc",
    "policy",
    "recovery",
    "registration",
    "roster",
    "staff",
]
FORBIDDEN = ("flask", "authlib.integrations")
ALLOWED_FLASK_MODULES = ("flask_babel", "flask_sqlalchemy")
# STYLE.md 1: the one oidc module that wires Authlib's Flask integration.
FLASK_WIRING = {"oidc/server.py"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _violations(package: str) -> list[str]:
    found = []
    for path in sorted((IDP / package).rglob("*.py")):
        if str(path.relative_to(IDP)) in FLASK_WIRING:
            continue
        for name in _imports(path):
            root = name.split(".")[0]
            if root in ALLOWED_FLASK_MODULES:
                continue
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN):
                found.append(f"{path.relative_to(IDP)} imports {name}")
            if name.startswith("idp.web"):
                found.append(f"{path.relative_to(IDP)} imports {name}")
    return found


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_domain_package_does_not_import_flask_or_the_web_layer(package: str) -> None:
    assert _violations(package) == []


def test_only_the_clock_reads_the_wall_clock() -> None:
    offenders = [
        str(path.relative_to(IDP))
        for path in IDP.rglob("*.py")
        if path.name != "clock.py"
        and any(
            call in path.read_text(encoding="utf-8")
            for call in ("datetime.now(", "date.today(", "time.time(", "utcnow(")
        )
    ]

    assert offenders == []
