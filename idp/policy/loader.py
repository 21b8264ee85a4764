"""Read `policies/*.toml` with tomllib and validate each file into its frozen policy object."""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from idp.policy.accounts import AccountsPolicy
from idp.policy.errors import PolicyError
from idp.policy.models import (
    RULE_ERROR_TYPE,
    ClaimsPolicy,
    CredentialsPolicy,
    LifecyclePolicy,
    RolloutPolicy,
)
from idp.policy.oidc import OidcPolicy
from idp.policy.staff import StaffPolicy

SCHEMA_VERSION = 1

PolicyT = TypeVar("PolicyT")

# Pydantic's wording for these is written for programmers; district IT edits the files, and
# TOML arrays become tuples only inside the IdP.
_REASONS = {
    "extra_forbidden": "unknown key",
    "unexpected_keyword_argument": "unknown key",
    "missing": "required key missing",
    "missing_argument": "required key missing",
    "tuple_type": "Input should be a valid list",
}


@dataclass(frozen=True)
class Policies:
    """Every policy file, validated; built once by `create_app` and handed to the services."""

    accounts: AccountsPolicy
    credentials: CredentialsPolicy
    lifecycle: LifecyclePolicy
    claims: ClaimsPolicy
    rollout: RolloutPolicy
    oidc: OidcPolicy
    staff: StaffPolicy


def load_policies(directory: Path) -> Policies:
    """Load and validate every policy file in `directory`; raise PolicyError on a bad file."""
    policies = Policies(
        accounts=load_policy_file(directory / "accounts.toml", AccountsPolicy),
        credentials=load_policy_file(directory / "credentials.toml", CredentialsPolicy),
        lifecycle=load_policy_file(directory / "lifecycle.toml", LifecyclePolicy),
        claims=load_policy_file(directory / "claims.toml", ClaimsPolicy),
        rollout=load_policy_file(directory / "rollout.toml", RolloutPolicy),
        oidc=load_policy_file(directory / "oidc.toml", OidcPolicy),
        staff=load_policy_file(directory / "staff.toml", StaffPolicy),
    )
    _check_student_lockout(policies)
    return policies


def _check_student_lockout(policies: Policies) -> None:
    """The student path's lockout is never looser than the username/password one: a date of
    birth is not a secret (accounts.toml students.lock_after_failures)."""
    students = policies.accounts.students.lock_after_failures
    ceiling = policies.credentials.lockout.lock_after_failures
    if students > ceiling:
        raise _policy_error(
            "accounts.toml",
            f"students.lock_after_failures: must not be greater than credentials.toml"
            f" lockout.lock_after_failures ({ceiling})",
        )


def load_policy_file(path: Path, model: type[PolicyT]) -> PolicyT:
    """Read one TOML policy file and validate it into `model`; raise PolicyError if it is wrong."""
    data = _read_toml(path)
    _check_schema_version(path.name, data.pop("schema_version", None))
    try:
        return TypeAdapter(model).validate_python(data)
    except ValidationError as error:
        problems = "; ".join(_describe(detail) for detail in error.errors())
        raise _policy_error(path.name, problems) from None


def _policy_error(file_name: str, problems: str) -> PolicyError:
    return PolicyError(f"{file_name}: {problems}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise _policy_error(path.name, f"file not found in {path.parent}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise _policy_error(path.name, f"not valid TOML: {error}") from None
    except OSError as error:
        raise _policy_error(path.name, f"cannot be read: {error.strerror}") from None


def _check_schema_version(file_name: str, version: object) -> None:
    if version is None:
        raise _policy_error(file_name, "schema_version: required key missing")
    # `type(...) is int` also refuses `true` and `1.0`, which compare equal to 1.
    if type(version) is not int or version != SCHEMA_VERSION:
        reason = f"unsupported version {version!r}, expected {SCHEMA_VERSION}"
        raise _policy_error(file_name, f"schema_version: {reason}")


def _describe(detail: ErrorDetails) -> str:
    """One problem as `<dotted.key.path>: <reason>`."""
    location = detail["loc"]
    reason = _reason(detail)
    return f"{_dotted(location)}: {reason}" if location else reason


def _reason(detail: ErrorDetails) -> str:
    context = detail.get("ctx", {})
    if detail["type"] == RULE_ERROR_TYPE:
        return _qualified_reason(detail["loc"][:-1], context)
    if detail["type"] == "too_short":
        return (
            f"List should have at least {context['min_length']} items, "
            f"not {context['actual_length']}"
        )
    return _REASONS.get(detail["type"], detail["msg"])


def _qualified_reason(table: tuple[int | str, ...], context: dict[str, Any]) -> str:
    """A rule's reason with its sibling keys written as full dotted paths."""
    siblings: tuple[str, ...] = context["siblings"]
    if not siblings:
        return str(context["reason"])
    return str(context["reason"]).format(*(_dotted((*table, key)) for key in siblings))


def _dotted(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location)
