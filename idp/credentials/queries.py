"""The credentials hot paths' prebuilt statements, built once at import."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, literal_column, select

from idp.accounts.models import Account
from idp.accounts.rules import username_matches_sql
from idp.credentials.models import SignInThrottle
from idp.credentials.questions import WITH_HAS_SECURITY_ANSWERS

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
# Every sign-in (SignInService.sign_in) reads, before checking the password, in one statement
# whether or not the name is known (both cost the same, as the dummy hash makes them): the
# account holding the username, whether it has security answers (a first sign-in must choose
# them before going on to an app), and the name's throttle row. Outer joins from a one-row
# subquery give a row even when neither exists.
_ONE_ROW = select(literal_column("1").label("one")).subquery()
SIGN_IN_LOOKUP = (
    select(Account, SignInThrottle.name_digest, SignInThrottle.locked_until)
    .select_from(_ONE_ROW)
    .outerjoin(Account, username_matches_sql(Account.username, bindparam("username")))
    .outerjoin(SignInThrottle, SignInThrottle.name_digest == bindparam("name_digest"))
    .options(WITH_HAS_SECURITY_ANSWERS)
)
