"""The one path that takes an account's access away, as the capabilities that need it see it.

DESIGN.md 7: a password reset, a restriction, a cancellation, the inactivity sweep and the
deletion purge all end access through `idp.oidc.logout.LogoutService` (tokens revoked, SSO
sessions ended, back-channel logout queued, one `oidc:access:ended` event per account). They
receive it at construction (idp/services.py), never optionally: an account must never keep
its access because a wire was missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from idp.accounts.models import Account


class AccessEnding(Protocol):
    """What `LogoutService` offers the capabilities that end access."""

    def end_access(
        self,
        account: Account,
        reason: str,
        student_id: int | None = None,
        keep_sid: str | None = None,
    ) -> None:
        """End one account's access; `keep_sid` keeps the browser session that made the
        change signed in, `student_id` names the student of a restriction in the event."""

    def end_access_many(self, account_ids: Sequence[int], reason: str) -> None:
        """End many accounts' access, one event each."""
