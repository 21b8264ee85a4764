"""staff.toml: the staff desk's session, its second factor, and which role may do what.

The roles and actions are named here, not imported from idp/staff: policies import no
capability. tests/unit/policy/test_staff_policy.py keeps STAFF_ROLES equal to the roles the
database accepts (idp/staff/models.py).
"""

from dataclasses import fields
from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt, StrictStr, field_validator
from pydantic.dataclasses import dataclass

from idp.policy.models import _TABLE, _duplicates, _quoted, rule_broken

STAFF_ROLES: tuple[str, ...] = (
    "secretary",
    "enrollment_specialist",
    "school_admin",
    "district_admin",
)
DISTRICT_ADMIN = "district_admin"


def _check_known_roles(roles: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [role for role in roles if role not in STAFF_ROLES]
    if unknown:
        noun = "role" if len(unknown) == 1 else "roles"
        raise rule_broken(f"unknown {noun} {_quoted(unknown)}; known: {_quoted(STAFF_ROLES)}")
    duplicates = _duplicates(roles)
    if duplicates:
        raise rule_broken(f"duplicate role {_quoted(duplicates)}")
    return roles


Roles = Annotated[tuple[StrictStr, ...], AfterValidator(_check_known_roles)]


@dataclass(frozen=True, config=_TABLE)
class StaffSessionPolicy:
    """`[session]`: how long a staff member's sign-in to the desk lasts."""

    # NIST SP 800-63B 4.2.3 (AAL2): reauthenticate after 30 minutes of inactivity, and at
    # least once per 12 hours.
    idle_minutes: Annotated[StrictInt, Field(ge=1, le=30)]
    absolute_hours: Annotated[StrictInt, Field(ge=1, le=12)]


@dataclass(frozen=True, config=_TABLE)
class SecondFactorPolicy:
    """`[second_factor]`: when wrong codes lock the second factor, and the recovery codes."""

    lock_after_failures: Annotated[StrictInt, Field(ge=1, le=10)]
    lock_minutes: Annotated[StrictInt, Field(ge=1, le=1440)]
    recovery_codes: Annotated[StrictInt, Field(ge=5, le=20)]


@dataclass(frozen=True, config=_TABLE)
class StaffActions:
    """`[actions]`: the roles allowed each desk action (issue 16.2). Every action is listed;
    an unknown one is an unknown key."""

    issue_activation_key: Roles
    revoke_activation_key: Roles
    cancel_account: Roles
    restrict_guardian: Roles
    lift_restriction: Roles
    re_enable_account: Roles
    clear_sign_in_lock: Roles
    resend_verification: Roles
    resend_account_ready: Roles
    send_username_reminder: Roles
    reset_security_questions: Roles
    set_student_password: Roles
    sign_out_everywhere: Roles
    reset_second_factor: Roles
    view_audit: Roles
    export_audit: Roles
    manage_staff: Roles

    @field_validator("reset_second_factor", "manage_staff")
    @classmethod
    def _check_district_admin_allowed(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # Only a district admin works district-wide: without them nobody could give roles
        # (the first district admin comes from the command line) or reset a staff member's
        # lost second factor.
        if DISTRICT_ADMIN not in value:
            raise rule_broken(f"must include {DISTRICT_ADMIN!r}, or nobody could do it")
        return value


STAFF_ACTIONS: tuple[str, ...] = tuple(field.name for field in fields(StaffActions))


@dataclass(frozen=True, config=_TABLE)
class StaffPolicy:
    """staff.toml."""

    session: StaffSessionPolicy
    second_factor: SecondFactorPolicy
    actions: StaffActions

    def roles_for(self, action: str) -> tuple[str, ...]:
        """The roles allowed `action`; a name that is no desk action is a programming error."""
        if action not in STAFF_ACTIONS:
            raise ValueError(f"unknown staff action {action!r}")
        roles: tuple[str, ...] = getattr(self.actions, action)
        return roles

    def allows(self, role: str, action: str) -> bool:
        """True if a staff member holding `role` may do `action` (within their schools)."""
        return role in self.roles_for(action)
