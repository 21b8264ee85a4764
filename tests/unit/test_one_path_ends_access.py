"""STYLE.md 1 and DESIGN.md 7: one path ends access. Only the token and SSO-session stores
(used by idp/oidc/logout.py) update token or SSO-session rows to revoke or end them, and only
the logout module calls their account-wide ending methods.

A source scan: an `update(OAuthToken)` or `update(SsoSession)` statement (any spelling: the
model, its `__table__`, its table name in SQL text), or an assignment to `.revoked_at` or
`.ended_at`, anywhere else in idp/ fails the test.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

IDP = Path(__file__).resolve().parents[2] / "idp"
# The stores the one path (idp/oidc/logout.py LogoutService) works through.
STORES = {"oidc/tokens.py", "oidc/sessions.py", "oidc/queries.py"}  # queries: their statements
MODELS = {"OAuthToken", "SsoSession"}
TABLES = {"oidc_token", "oidc_sso_session"}
ENDING_COLUMNS = {"revoked_at", "ended_at"}
# Account-wide ending methods of the stores: only the one path calls them.
ENDING_METHODS = {"end_all", "end_codes", "end_session_tokens"}
ONE_PATH = "oidc/logout.py"
# Assignments to a `revoked_at` of another table, reviewed one statement at a time.
OTHER_TABLES = {
    (module, ast.unparse(ast.parse(statement)))  # as the scan prints them
    for module, statement in [
        ("oidc/consent.py", "row.granted_at, row.revoked_at = now, None"),  # Consent
        ("oidc/consent.py", "row.revoked_at = self._clock.now()"),  # Consent
    ]
}
_SQL_UPDATE = re.compile(rf"\bupdate\s+\"?({'|'.join(TABLES)})\b", re.IGNORECASE)


def _names_a_token_table(node: ast.AST) -> bool:
    """`OAuthToken`, `models.SsoSession`, `OAuthToken.__table__`, `tables["oidc_token"]`."""
    if isinstance(node, ast.Name):
        return node.id in MODELS
    if isinstance(node, ast.Attribute):
        if node.attr == "__table__":
            return _names_a_token_table(node.value)
        return node.attr in MODELS
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Constant) and key.value in TABLES
    return False


def _is_token_update(node: ast.Call) -> bool:
    """`update(OAuthToken)`, `sa.update(SsoSession)`, `OAuthToken.__table__.update()`."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name != "update":
        return False
    if node.args and _names_a_token_table(node.args[0]):
        return True
    return isinstance(func, ast.Attribute) and _names_a_token_table(func.value)


def _assigned_columns(node: ast.Assign | ast.AugAssign | ast.AnnAssign) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    found = set()
    for target in targets:
        for part in ast.walk(target):
            if isinstance(part, ast.Attribute) and part.attr in ENDING_COLUMNS:
                found.add(part.attr)
    return found


def _finding(node: ast.AST, module: str) -> str | None:
    """What this node does to end access by hand, if anything."""
    if isinstance(node, ast.Call) and _is_token_update(node):
        return ast.unparse(node)[:60]
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and _assigned_columns(node):
        statement = ast.unparse(node)
        return None if (module, statement) in OTHER_TABLES else statement
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return f"SQL {node.value[:60]!r}" if _SQL_UPDATE.search(node.value) else None
    return None


def violations(source: str, module: str) -> list[str]:
    """What in this module's source updates token or SSO-session rows to end them."""
    return [
        f"{module}:{getattr(node, 'lineno', 0)} {finding}"
        for node in ast.walk(ast.parse(source))
        if (finding := _finding(node, module)) is not None
    ]


def _calls_of_ending_methods(source: str, module: str) -> list[str]:
    return [
        f"{module}:{node.lineno} .{node.func.attr}()"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ENDING_METHODS
    ]


def _modules() -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(IDP)), path.read_text(encoding="utf-8"))
        for path in sorted(IDP.rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_module_but_the_stores_revokes_tokens_or_ends_sso_sessions() -> None:
    found = [
        violation
        for module, source in _modules()
        if module not in STORES
        for violation in violations(source, module)
    ]

    assert found == []


def test_only_the_logout_module_calls_the_account_wide_ending_methods() -> None:
    found = [
        call
        for module, source in _modules()
        if module != ONE_PATH
        for call in _calls_of_ending_methods(source, module)
    ]

    assert found == []


def test_the_stores_are_where_the_scan_finds_the_ending_updates() -> None:
    found = {module for module, source in _modules() for _ in violations(source, module)}

    assert found == STORES


def test_the_reviewed_assignments_to_other_tables_still_exist() -> None:
    sources = dict(_modules())
    statements = {
        (module, ast.unparse(node))
        for module, _ in OTHER_TABLES
        for node in ast.walk(ast.parse(sources[module]))
        if isinstance(node, ast.Assign)
    }

    assert statements >= OTHER_TABLES


@pytest.mark.parametrize(
    "source",
    [
        "session.execute(update(OAuthToken).values(revoked_at=now))",
        "session.execute(sa.update(models.SsoSession).values(ended_at=now))",
        "session.execute(OAuthToken.__table__.update().values(revoked_at=now))",
        "session.execute(db.metadata.tables['oidc_sso_session'].update())",
        "session.execute(text('UPDATE oidc_token SET revoked_at = now()'))",
        "session.execute(text('update \"oidc_sso_session\" set ended_at = now()'))",
        "sso.ended_at = now",
        "token.revoked_at, token.rotated_at = now, now",
    ],
)
def test_the_scan_finds_each_way_of_ending_access_by_hand(source: str) -> None:
    assert violations(source, "lifecycle/sweep.py") != []


def test_the_scan_leaves_reading_and_other_tables_alone() -> None:
    source = (
        "select(OAuthToken).where(OAuthToken.revoked_at.is_(None))\n"
        "update(ActivationKey).values(revoked_at=now)\n"
        "live = sso.ended_at is None\n"
    )

    assert violations(source, "lifecycle/sweep.py") == []
