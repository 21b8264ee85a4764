"""Typed, frozen policy objects: one per `policies/*.toml` file, one nested object per table.

Pydantic refuses unknown keys (`extra="forbid"`) and wrong types. Strictness is declared on each
field type (`StrictInt`, `StrictStr`, `StrictBool`, `StrictDate`), not with
`ConfigDict(strict=True)`: in strict mode pydantic-core accepts only *instances* for a dataclass
field, so every nested TOML table would be refused as a dict. Cross-field rules raise
`rule_broken(...)`; the loader turns every validation error into one `PolicyError` line.
"""

import operator
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Annotated

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

RULE_ERROR_TYPE = "policy_rule"

# Every claim the IdP knows how to produce; claims.toml may only name these.
KNOWN_CLAIMS: frozenset[str] = frozenset(
    {
        "sub",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "locale",
        "role",
        "email",
        "email_verified",
        "students",
        "student_ids",
        "student",
        "notification_preferences",
        "updated_at",
    }
)
# Every topic key accounts.toml `[communication] topics` may list, in the order an error names
# them. Each has a translated label in idp/accounts/preferences.py (TOPIC_LABELS, kept to these
# keys by its unit test); the keys live here because policies import no capability.
KNOWN_TOPICS: tuple[str, ...] = ("grades", "attendance", "behaviour", "tests", "announcements")

_TABLE = ConfigDict(extra="forbid")

StrictPositiveInt = Annotated[StrictInt, Field(ge=1)]
StrictDate = Annotated[date, Strict()]
Text = Annotated[str, StringConstraints(strict=True, min_length=1)]
SnakeCaseKey = Annotated[
    str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
]

_RELATIONS: dict[str, tuple[Callable[[int, int], bool], str]] = {
    ">": (operator.gt, "must be greater than"),
    ">=": (operator.ge, "must not be less than"),
    "<": (operator.lt, "must be less than"),
    "<=": (operator.le, "must not be greater than"),
}


def rule_broken(reason: str, *siblings: str) -> PydanticCustomError:
    """Build the error for a broken cross-field rule; `{0}`, `{1}`… in `reason` name `siblings`."""
    # Siblings are keys of the same table; the loader prefixes them with the table's dotted path.
    message = reason.format(*siblings) if siblings else reason
    return PydanticCustomError(RULE_ERROR_TYPE, message, {"reason": reason, "siblings": siblings})


def _compared(value: int, info: ValidationInfo, relation: str, sibling: str) -> int:
    """Return `value` if `value <relation> sibling` holds, else raise a rule error."""
    holds, text = _RELATIONS[relation]
    other = info.data.get(sibling)
    # A sibling that failed its own checks is missing from info.data and is reported already.
    if isinstance(other, int) and not holds(value, other):
        raise rule_broken(f"{text} {{0}} ({other})", sibling)
    return value


def _duplicates(values: Iterable[str]) -> list[str]:
    """The values that occur more than once, in first-seen order."""
    return [value for value, seen in Counter(values).items() if seen > 1]


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(repr(value) for value in values)


# accounts.toml


@dataclass(frozen=True, config=_TABLE)
class UsernamePolicy:
    """`[usernames]`: length limits and reuse of the usernames the IdP generates."""

    # The database CHECK constraint fixes usernames to 8..20 characters.
    min_length: Annotated[StrictInt, Field(ge=8, le=20)]
    max_length: Annotated[StrictInt, Field(ge=8, le=20)]
    is_reserved_after_deletion: StrictBool

    @field_validator("max_length")
    @classmethod
    def _check_max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        return _compared(value, info, ">=", "min_length")


@dataclass(frozen=True, config=_TABLE)
class EmailPolicy:
    """`[emails]`: limits on the email addresses accounts may use."""

    # RFC 5321 4.5.3.1.3 (with erratum 1690): a usable address has at most 254 characters.
    max_length: Annotated[StrictInt, Field(ge=3, le=254)]


@dataclass(frozen=True, config=_TABLE)
class CommunicationPolicy:
    """`[communication]`: the topics people may choose, and those a new account starts with."""

    topics: Annotated[tuple[SnakeCaseKey, ...], Field(min_length=1)]
    default_topics: tuple[SnakeCaseKey, ...]

    @field_validator("topics")
    @classmethod
    def _check_known_topics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        duplicates = _duplicates(value)
        if duplicates:
            raise rule_broken(f"duplicate topic {_quoted(duplicates)}")
        # Only topics with a (translated) label in idp/accounts/preferences.py can be shown.
        unknown = [topic for topic in value if topic not in KNOWN_TOPICS]
        if unknown:
            noun = "topic" if len(unknown) == 1 else "topics"
            raise rule_broken(f"unknown {noun} {_quoted(unknown)}; known: {_quoted(KNOWN_TOPICS)}")
        return value

    @field_validator("default_topics")
    @classmethod
    def _check_defaults_are_topics(
        cls, value: tuple[str, ...], info: ValidationInfo
    ) -> tuple[str, ...]:
        duplicates = _duplicates(value)
        if duplicates:
            raise rule_broken(f"duplicate topic {_quoted(duplicates)}")
        topics = info.data.get("topics")
        # Topics that failed their own checks are missing from info.data and reported already.
        missing = [topic for topic in value if topics is not None and topic not in topics]
        if missing:
            raise rule_broken(f"{_quoted(missing)} must also be listed in {{0}}", "topics")
        return value


# The file's top-level AccountsPolicy and its [students] table are in accounts.py.


# credentials.toml


@dataclass(frozen=True, config=_TABLE)
class PasswordPolicy:
    """`[passwords]`: accepted password lengths, in characters."""

    min_length: Annotated[StrictInt, Field(ge=8)]
    max_length: Annotated[StrictInt, Field(ge=64)]

    @field_validator("max_length")
    @classmethod
    def _check_max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        return _compared(value, info, ">=", "min_length")


@dataclass(frozen=True, config=_TABLE)
class HashingPolicy:
    """`[hashing]`: argon2id cost parameters for new password hashes."""

    # OWASP Password Storage Cheat Sheet: argon2id needs at least 19 MiB, 2 passes, 1 lane.
    memory_cost_kib: Annotated[StrictInt, Field(ge=19456)]
    time_cost: StrictPositiveInt
    parallelism: StrictPositiveInt


@dataclass(frozen=True, config=_TABLE)
class LockoutPolicy:
    """`[lockout]`: when repeated failed sign-ins lock an account, and for how long."""

    lock_after_failures: StrictPositiveInt
    first_lock_minutes: StrictPositiveInt
    max_lock_minutes: StrictPositiveInt
    window_minutes: StrictPositiveInt

    @field_validator("max_lock_minutes")
    @classmethod
    def _check_max_not_below_first(cls, value: int, info: ValidationInfo) -> int:
        return _compared(value, info, ">=", "first_lock_minutes")

    def lock_minutes(self, lock_count: int) -> int:
        """How long the lock number `lock_count` (0 = the first) lasts: doubling, capped."""
        return int(min(self.first_lock_minutes * 2 ** min(lock_count, 16), self.max_lock_minutes))


@dataclass(frozen=True, config=_TABLE)
class SecurityQuestionPolicy:
    """`[security_questions]`: how many questions an account answers, from which list."""

    count: StrictPositiveInt
    required_correct: StrictPositiveInt
    question_keys: Annotated[tuple[SnakeCaseKey, ...], Field(min_length=10)]

    @field_validator("required_correct")
    @classmethod
    def _check_required_within_count(cls, value: int, info: ValidationInfo) -> int:
        return _compared(value, info, "<=", "count")

    @field_validator("question_keys")
    @classmethod
    def _check_enough_distinct_keys(
        cls, value: tuple[str, ...], info: ValidationInfo
    ) -> tuple[str, ...]:
        duplicates = _duplicates(value)
        if duplicates:
            raise rule_broken(f"duplicate key {_quoted(duplicates)}")
        count = info.data.get("count")
        if isinstance(count, int) and len(value) < count:
            raise rule_broken(f"must list at least {{0}} ({count}) keys", "count")
        return value


@dataclass(frozen=True, config=_TABLE)
class CredentialsPolicy:
    """credentials.toml: passwords, hashing, lockout and security questions."""

    passwords: PasswordPolicy
    hashing: HashingPolicy
    lockout: LockoutPolicy
    security_questions: SecurityQuestionPolicy


# lifecycle.toml


@dataclass(frozen=True, config=_TABLE)
class InactivityPolicy:
    """`[inactivity]`: when unused accounts are disabled, then deleted, and the warnings before."""

    disable_after_days: StrictPositiveInt
    delete_after_days: StrictPositiveInt
    warn_before_disable_days: StrictPositiveInt
    warn_before_delete_days: StrictPositiveInt
    is_student_exempt: StrictBool

    @field_validator("delete_after_days")
    @classmethod
    def _check_delete_after_disable(cls, value: int, info: ValidationInfo) -> int:
        return _compared(value, info, ">", "disable_after_days")

    @field_validator("warn_before_disable_days")
    @classmethod
    def _check_disable_warning_in_time(cls, value: int, info: ValidationInfo) -> int:
        return _compared(value, info, "<", "disable_after_days")

    @field_validator("warn_before_delete_days")
    @classmethod
    def _check_delete_warning_in_time(cls, value: int, info: ValidationInfo) -> int:
        return _compared(value, info, "<", "delete_after_days")


@dataclass(frozen=True, config=_TABLE)
class RegistrationPolicy:
    """`[registration]`: lifetimes of registration links and keys."""

    email_link_hours: StrictPositiveInt
    pending_email_grace_days: StrictPositiveInt
    activation_key_days: StrictPositiveInt
    provisioning_promise_minutes: StrictPositiveInt


@dataclass(frozen=True, config=_TABLE)
class RecoveryPolicy:
    """`[recovery]`: lifetime of password reset links."""

    reset_link_minutes: StrictPositiveInt


@dataclass(frozen=True, config=_TABLE)
class LifecyclePolicy:
    """lifecycle.toml: inactivity, registration and recovery time limits."""

    inactivity: InactivityPolicy
    registration: RegistrationPolicy
    recovery: RecoveryPolicy


# claims.toml


def _check_known_claims(claims: tuple[str, ...]) -> tuple[str, ...]:
    unknown = sorted(set(claims) - KNOWN_CLAIMS)
    if unknown:
        noun = "claim" if len(unknown) == 1 else "claims"
        raise rule_broken(f"unknown {noun} {_quoted(unknown)}")
    return claims


ScopeClaims = Annotated[tuple[StrictStr, ...], AfterValidator(_check_known_claims)]


@dataclass(frozen=True, config=_TABLE)
class StudentClaimPolicy:
    """`[student_claim]`: whether student accounts receive the `student` claim."""

    is_released_to_students: StrictBool


@dataclass(frozen=True, config=_TABLE)
class ClaimsPolicy:
    """claims.toml: which claims each scope releases."""

    scopes: Mapping[StrictStr, ScopeClaims]
    student_claim: StudentClaimPolicy

    @field_validator("scopes")
    @classmethod
    def _check_openid_releases_sub(
        cls, value: Mapping[str, tuple[str, ...]]
    ) -> Mapping[str, tuple[str, ...]]:
        # OIDC Core 3.1.2.1: every request carries `openid`; 5.1: `sub` is always released.
        if "openid" not in value:
            raise rule_broken("must include the openid scope")
        if "sub" not in value["openid"]:
            raise rule_broken("the openid scope must release the sub claim")
        # A read-only view keeps the frozen object frozen all the way down.
        return MappingProxyType(dict(value))

    def claims_for(self, scopes: Iterable[str]) -> frozenset[str]:
        """The claims released for the requested `scopes`; unknown scopes release nothing."""
        return frozenset(claim for scope in scopes for claim in self.scopes.get(scope, ()))


# rollout.toml


@dataclass(frozen=True, config=_TABLE)
class RosterPolicy:
    """`[roster]`: how SIS roster files are read; relatives are never legal guardians."""

    person_id_column: Text
    is_parent_legal_guardian: StrictBool
    is_guardian_legal_guardian: StrictBool
    # A bulk import deactivating more than this share of the active persons or relationships
    # stops unless --allow-mass-deactivation; 10 when the key is left out (older files).
    max_deactivation_share_percent: Annotated[StrictInt, Field(ge=0, le=100)] = 10


@dataclass(frozen=True, config=_TABLE)
class School:
    """One `[[schools]]` entry; `enabled_from` absent means the portal is not open there yet."""

    sis_id: Text
    name: Text
    enabled_from: StrictDate | None = None

    def is_enabled_on(self, on: date) -> bool:
        """True once the school's portal is open on the day `on`."""
        return self.enabled_from is not None and self.enabled_from <= on


@dataclass(frozen=True, config=_TABLE)
class RolloutPolicy:
    """rollout.toml: roster reading rules and the schools the portal is open for."""

    roster: RosterPolicy
    schools: tuple[School, ...]

    @field_validator("schools")
    @classmethod
    def _check_unique_sis_ids(cls, value: tuple[School, ...]) -> tuple[School, ...]:
        duplicates = _duplicates(school.sis_id for school in value)
        if duplicates:
            raise rule_broken(f"duplicate sis_id {_quoted(duplicates)}")
        return value

    def enabled_school_ids(self, on: date) -> frozenset[str]:
        """The SIS ids of the schools whose portal is open on the day `on`."""
        return frozenset(school.sis_id for school in self.schools if school.is_enabled_on(on))

    def is_enabled(self, sis_id: str, on: date) -> bool:
        """True if the school `sis_id` is known and its portal is open on the day `on`."""
        return sis_id in self.enabled_school_ids(on)
