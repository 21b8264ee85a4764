"""What the staff console reads (issue 16.2-16.4, 16.6-16.7): whom the signed-in staff member
sees, and the pages about them. Reads only; the desk's acts are StaffService's use cases.

Every read takes the StaffScope (idp/staff/scope.py): a person outside it is None, which the
console answers with a 404, never a 403.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from idp.accounts.models import Account
from idp.clock import Clock
from idp.policy import Policies
from idp.staff.scope import StaffScope, can_see_account, can_see_person, staff_scope


class StaffDesk:
    """The console's reads, each within the signed-in staff member's scope."""

    def __init__(self, session: Session, clock: Clock, policies: Policies) -> None:
        self._session = session
        self._clock = clock
        self._policies = policies

    def scope_of(self, account: Account) -> StaffScope | None:
        """The schools the active staff `account` works for; None without any role."""
        return staff_scope(self._session, account)

    def sees_account(self, scope: StaffScope, account_id: int) -> bool:
        """Whether the account exists and the staff member may see it."""
        return can_see_account(self._session, scope, account_id)

    def sees_person(self, scope: StaffScope, person_id: int) -> bool:
        """Whether the roster Person exists and the staff member may see it."""
        return can_see_person(self._session, scope, person_id)
