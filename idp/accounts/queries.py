"""The accounts hot paths' prebuilt statements, built once at import, from accounts/rules.py."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update

from idp.accounts import rules
from idp.accounts.models import Account
from idp.sqltypes import UtcDateTime

# Every sign-in and registration looks the username up (AccountService.find_by_username).
BY_USERNAME = select(Account).where(
    rules.username_matches_sql(Account.username, bindparam("username"))
)
# Every sign-in and (at most hourly) refresh records activity: inactivity rules count from it.
TOUCH_ACTIVITY = (
    update(Account)
    .where(Account.id == bindparam("owner_id"))
    .values(last_activity_at=bindparam("now", type_=UtcDateTime()))
)
