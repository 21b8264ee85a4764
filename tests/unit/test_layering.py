"""The design's "never" arrows, checked on the imports of every module of idp/.

- Domain code never touches the request (STYLE.md 1, DESIGN.md 2): only the edges import
  flask, werkzeug, click or authlib.integrations. The edges are idp/__init__.py,
  extensions.py, web/, oidc/server.py, the command line (cli.py and its helpers,
  cli_support.py) and each capability's command group (`<capability>/cli.py`).
- Domain code never imports an edge: web/, the command line, a capability's cli.py, the OIDC
  wiring (oidc/server.py). Models may still use the shared `db` of extensions.py.
- Policies never import a capability (DESIGN.md 2: idp/policy only loads and validates).
- Only idp/clock.py reads the time (STYLE.md 2), however the clock function is imported.
- No module outside the edges imports dynamically, which would hide an import from these checks.

Relative imports (`from ..web import deps`, `from . import cli`) are resolved to absolute names
first. Each rule has a negative test: a synthetic module that breaks it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import pytest

IDP = Path(__file__).resolve().parents[2] / "idp"

# DESIGN.md 2: one package per capability.
CAPABILITIES = frozenset(
    {
        "accounts",
        "audit",
        "bridge",
        "credentials",
        "lifecycle",
        "notifications",
        "oidc",
        "recovery",
        "registration",
        "roster",
        "staff",
    }
)
# The other packages: policy loading, the web edge, the demo district, and Alembic's
# migrations (tooling, not checked). The command line has no package: idp/cli.py registers each
# capability's cli.py.
OTHER_PACKAGES = frozenset({"policy", "web", "demo", "migrations"})

EDGE_FILES = frozenset(
    {"__init__.py", "extensions.py", "cli.py", "cli_support.py", "oidc/server.py"}
)
EDGE_FOLDERS = ("web/",)
REQUEST_LIBRARIES = ("flask", "werkzeug", "click", "authlib.integrations")
# The table registry imports every package's models, the web's browser-session table included.
ALLOWED_EDGE_IMPORTS = {"models.py": ("idp.web.session_models",)}
# What a policy module may import from idp besides idp.policy itself: the shared kernel.
POLICY_MAY_IMPORT = ("idp.policy", "idp.errors", "idp.clock")
# The policy's command group also reads the settings, for the policy folder (`idp policies check`).
POLICY_EDGE_MAY_IMPORT = {"policy/cli.py": ("idp.config",)}
# Functions that read the time (the struct_time ones read it when given no time: give them
# none outside the clock either).
WALL_CLOCK = frozenset(
    {
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.perf_counter_ns",
        "time.localtime",
        "time.gmtime",
        "time.ctime",
        "time.asctime",
        "time.strftime",
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
    }
)
DYNAMIC_IMPORTS = frozenset(
    {"builtins.__import__", "importlib.import_module", "importlib.__import__"}
)


def _module_name(path: str) -> str:
    """`roster/cli.py` -> `idp.roster.cli`; `roster/__init__.py` -> `idp.roster`."""
    parts = PurePosixPath(path).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("idp", *parts))


def _absolute(module: str | None, level: int, path: str) -> str:
    """The absolute name of an `ImportFrom`'s module, relative imports resolved."""
    if level == 0:
        return module or ""
    package = _module_name(path)
    if PurePosixPath(path).name != "__init__.py":
        package = package.rpartition(".")[0]
    parts = package.split(".")
    if level > len(parts):
        raise ValueError(f"{path}: relative import beyond the idp package")
    base = ".".join(parts[: len(parts) - level + 1])
    return f"{base}.{module}" if module else base


def imports(path: str, tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, absolute imported name) for every import of the module.

    `from a import b` gives `a.b`: a submodule or a name in `a`, either way under `a`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, path)
            for alias in node.names:
                yield node.lineno, base if alias.name == "*" else f"{base}.{alias.name}"


def _bindings(path: str, tree: ast.Module) -> dict[str, str]:
    """What each imported local name stands for: `dt` -> `datetime.datetime`."""
    bindings = {"__import__": "builtins.__import__"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:  # import a.b as c: c is a.b
                    bindings[alias.asname] = alias.name
                else:  # import a.b: a is a
                    root = alias.name.partition(".")[0]
                    bindings[root] = root
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, path)
            for alias in node.names:
                if alias.name != "*":
                    bindings[alias.asname or alias.name] = f"{base}.{alias.name}"
    return bindings


def _dotted(node: ast.expr, bindings: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return bindings.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, bindings)
        return f"{base}.{node.attr}" if base else None
    return None


def references(path: str, tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, absolute name) of every imported name and every use of one (`dt.now`)."""
    bindings = _bindings(path, tree)
    yield from imports(path, tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name | ast.Attribute):
            name = _dotted(node, bindings)
            if name is not None:
                yield node.lineno, name


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def is_edge(path: str) -> bool:
    """True for the modules that may touch the request and the command line."""
    parts = PurePosixPath(path).parts
    is_command_group = len(parts) == 2 and parts[1] == "cli.py"  # <capability>/cli.py
    return path in EDGE_FILES or path.startswith(EDGE_FOLDERS) or is_command_group


def _names_an_edge(name: str) -> bool:
    parts = name.split(".")
    if parts[0] != "idp" or len(parts) < 2:
        return False
    if parts[1] in ("web", "cli", "cli_support") or parts[1:3] == ["oidc", "server"]:
        return True
    return len(parts) >= 3 and parts[2] == "cli"  # idp.<capability>.cli


def request_violations(path: str, source: str) -> list[str]:
    """A domain module's imports of flask, werkzeug, click or authlib.integrations."""
    if is_edge(path):
        return []
    return [
        f"{path}:{line} imports {name}"
        for line, name in imports(path, ast.parse(source))
        if _under(name, REQUEST_LIBRARIES)
    ]


def edge_violations(path: str, source: str) -> list[str]:
    """A domain module's imports of web/, the command line or the OIDC wiring."""
    if is_edge(path):
        return []
    return [
        f"{path}:{line} imports {name}"
        for line, name in imports(path, ast.parse(source))
        if _names_an_edge(name) and not _under(name, ALLOWED_EDGE_IMPORTS.get(path, ()))
    ]


def policy_violations(path: str, source: str) -> list[str]:
    """A policy module's imports of anything of idp but policy and the kernel."""
    if not path.startswith("policy/"):
        return []
    allowed = POLICY_MAY_IMPORT + POLICY_EDGE_MAY_IMPORT.get(path, ())
    return [
        f"{path}:{line} imports {name}"
        for line, name in imports(path, ast.parse(source))
        if _under(name, ("idp",)) and not _under(name, allowed)
    ]


def clock_violations(path: str, source: str) -> list[str]:
    """Reads of the time outside idp/clock.py, however the function was imported."""
    if path == "clock.py":
        return []
    found = {
        f"{path}:{line} reads the time with {name}"
        for line, name in references(path, ast.parse(source))
        if name in WALL_CLOCK
    }
    return sorted(found)


def dynamic_import_violations(path: str, source: str) -> list[str]:
    """Dynamic imports outside the edges (they would hide an import from these checks)."""
    if is_edge(path):
        return []
    found = {
        f"{path}:{line} imports dynamically with {name}"
        for line, name in references(path, ast.parse(source))
        if name in DYNAMIC_IMPORTS
    }
    return sorted(found)


def _modules() -> list[tuple[str, str]]:
    """(path under idp/, source) of every module but the migrations."""
    return [
        (path.relative_to(IDP).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(IDP.rglob("*.py"))
        if path.relative_to(IDP).parts[0] != "migrations"
    ]


def test_every_package_is_placed_in_the_layers() -> None:
    packages = {path.parent.name for path in IDP.glob("*/*.py")}

    assert packages == CAPABILITIES | OTHER_PACKAGES


@pytest.mark.parametrize(
    "rule",
    [
        request_violations,
        edge_violations,
        policy_violations,
        clock_violations,
        dynamic_import_violations,
    ],
)
def test_no_module_breaks_the_rule(rule: Callable[[str, str], list[str]]) -> None:
    found = [violation for path, source in _modules() for violation in rule(path, source)]

    assert found == []


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("accounts/service.py", "from flask import request", "imports flask.request"),
        ("roster/models.py", "import flask", "imports flask"),
        ("demo/loader.py", "from werkzeug.wrappers import Request", "imports werkzeug.wrappers"),
        ("roster/oneroster/cli.py", "import click", "imports click"),
        ("commands/bridge.py", "import click", "imports click"),  # no second command folder
        ("services.py", "from authlib.integrations import flask_oauth2", "authlib.integrations"),
    ],
)
def test_a_domain_module_importing_the_request_is_found(
    path: str, source: str, expected: str
) -> None:
    assert expected in " ".join(request_violations(path, source))


@pytest.mark.parametrize(
    "path",
    [
        "web/login.py",
        "roster/cli.py",
        "cli.py",
        "cli_support.py",
        "credentials/cli.py",
        "oidc/server.py",
    ],
)
def test_an_edge_may_import_flask_and_click(path: str) -> None:
    assert request_violations(path, "import click\nfrom flask import request") == []


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("accounts/service.py", "from idp.web.deps import services", "idp.web.deps.services"),
        ("accounts/service.py", "from ..web import deps", "imports idp.web.deps"),
        ("oidc/tokens.py", "from .server import SignInContext", "idp.oidc.server.SignInContext"),
        ("roster/service.py", "from . import cli", "imports idp.roster.cli"),
        ("roster/oneroster/importer.py", "from ...cli_support import fail", "cli_support.fail"),
        ("lifecycle/sweep.py", "from idp.cli_support import when", "idp.cli_support.when"),
        ("credentials/service.py", "from .cli import students", "imports idp.credentials.cli"),
        ("notifications/outbox.py", "import idp.cli", "imports idp.cli"),
        ("models.py", "from idp.web.deps import services", "idp.web.deps.services"),
    ],
)
def test_a_domain_module_importing_an_edge_is_found(path: str, source: str, expected: str) -> None:
    assert expected in " ".join(edge_violations(path, source))


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("policy/models.py", "from idp.accounts.preferences import X", "idp.accounts.preferences"),
        ("policy/models.py", "from ..accounts import preferences", "idp.accounts.preferences"),
        ("policy/__init__.py", "from ..oidc.clients import y", "idp.oidc.clients.y"),
        ("policy/loader.py", "import idp.roster.models", "imports idp.roster.models"),
        ("policy/cli.py", "from idp.accounts.models import LOCALES", "idp.accounts.models"),
        ("policy/loader.py", "from idp.config import load_settings", "idp.config.load_settings"),
    ],
)
def test_a_policy_importing_a_capability_is_found(path: str, source: str, expected: str) -> None:
    assert expected in " ".join(policy_violations(path, source))


def test_a_policy_may_import_policy_modules_relatively() -> None:
    source = "from . import models\nfrom .errors import PolicyError\nfrom idp.errors import E"

    assert policy_violations("policy/__init__.py", source) == []


def test_the_policy_command_group_may_read_the_settings() -> None:
    source = "from idp.config import load_settings\nfrom idp.policy import load_policies"

    assert policy_violations("policy/cli.py", source) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import time\ntime.time()", "time.time"),
        ("import time as t\nt.monotonic()", "time.monotonic"),
        ("from time import time\ntime()", "time.time"),
        ("from time import perf_counter as tick\ntick()", "time.perf_counter"),
        ("from datetime import datetime\ndatetime.now()", "datetime.datetime.now"),
        ("from datetime import datetime as dt\ndt.utcnow()", "datetime.datetime.utcnow"),
        ("import datetime\ndatetime.date.today()", "datetime.date.today"),
        ("from datetime import date\nkey = date.today", "datetime.date.today"),
    ],
)
def test_a_read_of_the_time_outside_the_clock_is_found(source: str, expected: str) -> None:
    assert f"reads the time with {expected}" in " ".join(clock_violations("audit/log.py", source))


def test_the_clock_may_read_the_time_and_others_may_sleep() -> None:
    assert clock_violations("clock.py", "import time\ntime.time()") == []
    assert clock_violations("cli.py", "import time\ntime.sleep(1)") == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import importlib\nimportlib.import_module('flask')", "importlib.import_module"),
        ("from importlib import import_module\nimport_module('x')", "importlib.import_module"),
        ("__import__('flask')", "builtins.__import__"),
    ],
)
def test_a_dynamic_import_outside_the_edges_is_found(source: str, expected: str) -> None:
    assert expected in " ".join(dynamic_import_violations("staff/service.py", source))


def test_a_relative_import_beyond_the_package_is_refused() -> None:
    with pytest.raises(ValueError, match="beyond the idp package"):
        list(imports("accounts/service.py", ast.parse("from ... import x")))
