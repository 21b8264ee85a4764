"""accounts.toml: the file's top-level object and its `[students]` table (student sign-in).

The `[usernames]`, `[emails]` and `[communication]` tables are defined in models.py.
"""

from typing import Annotated, Literal

from pydantic import Field, StrictInt, ValidationInfo, field_validator
from pydantic.dataclasses import dataclass

from idp.policy.models import (
    _TABLE,
    CommunicationPolicy,
    EmailPolicy,
    LockoutPolicy,
    StrictPositiveInt,
    UsernamePolicy,
    _compared,
)

# How students prove who they are (DESIGN.md 1): the FAQ's student ID + date of birth, or a
# password the district sets (`idp students set-password`, or a roster import).
StudentLogin = Literal["student_id_birthdate", "district_password"]
STUDENT_ID_BIRTHDATE = "student_id_birthdate"
DISTRICT_PASSWORD = "district_password"  # noqa: S105 - the name of a sign-in method


@dataclass(frozen=True, config=_TABLE)
class StudentsPolicy:
    """`[students]`: how students sign in, and the lockout of that path (tighter than the
    username/password lockout: a date of birth is not a secret)."""

    login: StudentLogin
    # Ten is already generous for a value a classmate may know; credentials.toml's lockout
    # is the ceiling (checked by the loader, which sees both files).
    lock_after_failures: Annotated[StrictInt, Field(ge=1, le=10)]
    first_lock_minutes: StrictPositiveInt
    max_lock_minutes: StrictPositiveInt
    window_minutes: StrictPositiveInt
    ip_failures_per_minute: StrictPositiveInt
    ip_failures_per_hour: StrictPositiveInt

    @field_validator("max_lock_minutes")
    @classmethod
    def _check_max_not_below_first(cls, value: int, info: ValidationInfo) -> int:
        return _compared(value, info, ">=", "first_lock_minutes")

    @field_validator("ip_failures_per_hour")
    @classmethod
    def _check_hour_not_below_minute(cls, value: int, info: ValidationInfo) -> int:
        return _compared(value, info, ">=", "ip_failures_per_minute")

    @property
    def lockout(self) -> LockoutPolicy:
        """The per-student-ID lockout, in the form the failure throttle takes."""
        return LockoutPolicy(
            lock_after_failures=self.lock_after_failures,
            first_lock_minutes=self.first_lock_minutes,
            max_lock_minutes=self.max_lock_minutes,
            window_minutes=self.window_minutes,
        )

    @property
    def ip_limit(self) -> str:
        """The per-IP limit of failed student sign-ins, in Flask-Limiter's notation."""
        return f"{self.ip_failures_per_minute}/minute;{self.ip_failures_per_hour}/hour"


@dataclass(frozen=True, config=_TABLE)
class AccountsPolicy:
    """accounts.toml: usernames, email addresses, contact preferences and student sign-in."""

    usernames: UsernamePolicy
    emails: EmailPolicy
    communication: CommunicationPolicy
    students: StudentsPolicy
