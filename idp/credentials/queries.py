"""The credentials hot paths' prebuilt statements, built once at import."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select

from idp.credentials.models import SignInThrottle

# Every student sign-in and activation-key check first asks for the name's lock
# (FailureThrottle.locked_minutes).
LOOK_UP_THROTTLE = select(SignInThrottle.locked_until).where(
    SignInThrottle.name_digest == bindparam("name_digest")
)
# Every successful sign-in (and activation-key check) forgets the name's failures
# (FailureThrottle.clear).
FORGET_THROTTLE = delete(SignInThrottle).where(
    SignInThrottle.name_digest == bindparam("name_digest")
)
