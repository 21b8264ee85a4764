"""Claim release: which facts about an account a token's scopes let an app see."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from idp.accounts.models import Account
from idp.accounts.preferences import has_contact_preferences
from idp.policy import ClaimsPolicy
from idp.roster.models import Person

ClaimSource = Callable[[Account, Person | None], Any]


def _name(account: Account, person: Person | None) -> str | None:
    return f"{person.given_name} {person.family_name}" if person else None


def _notification_preferences(account: Account, person: Person | None) -> dict[str, Any] | None:
    # Students have no contact preferences (the school contacts their guardians): left out.
    if not has_contact_preferences(account.kind):
        return None
    return {
        "channel": account.communication_channel,
        "topics": list(account.communication_topics),
        "locale": account.locale,
    }


# One producer per claim; a claim with value None is left out of the response.
_PRODUCERS: dict[str, ClaimSource] = {
    "sub": lambda account, person: account.sub,
    "preferred_username": lambda account, person: account.username,
    "email": lambda account, person: account.email,
    "email_verified": lambda account, person: (
        account.email_verified_at is not None if account.email else None
    ),
    "name": _name,
    "given_name": lambda account, person: person.given_name if person else None,
    "family_name": lambda account, person: person.family_name if person else None,
    "locale": lambda account, person: account.locale,
    "role": lambda account, person: account.kind,
    "notification_preferences": _notification_preferences,
}


class ClaimsService:
    """Builds the claims for an account from the scopes a token carries (claims.toml)."""

    def __init__(self, session: Session, policy: ClaimsPolicy) -> None:
        self._session = session
        self._policy = policy

    def user_info(
        self,
        account: Account,
        scope: str,
        requested: Iterable[str] = (),
        allowed_scopes: Iterable[str] = (),
    ) -> dict[str, Any]:
        """The released claims: those the token's scopes map to, plus claims individually
        requested (OIDC `claims` parameter) that the client's allowed scopes would release."""
        extra = self._policy.claims_for(allowed_scopes) & set(requested)
        names = self._policy.claims_for(scope.split()) | extra | {"sub"}
        person = getattr(account, "loaded_person", None)
        if person is None and account.person_id:
            person = self._session.get(Person, account.person_id)
        claims: dict[str, Any] = {}
        for name in sorted(names):
            producer = _PRODUCERS.get(name)
            value = producer(account, person) if producer else None
            if value is not None:
                claims[name] = value
        return claims

    def supported_claims(self) -> list[str]:
        """Every claim some scope can release (for discovery)."""
        return sorted(self._policy.claims_for(self._policy.scopes.keys()) | {"sub"})

    def supported_scopes(self) -> list[str]:
        """Every scope the provider knows (for discovery), plus offline_access."""
        return sorted({*self._policy.scopes.keys(), "offline_access"})
