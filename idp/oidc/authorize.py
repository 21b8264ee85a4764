"""What an authorization request needs next: a sign-in, consent, an error, or a code.

OIDC Core 3.1.2.1 parameters Authlib leaves to the provider: prompt, max_age, and consent.
Pure rules: no database, no Flask.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

ACR_PASSWORD = "urn:portal:acr:password"  # noqa: S105 - an ACR name, not a secret
# A student's ID and date of birth: knowledge of facts that are not secret (amr "kba").
ACR_STUDENT_BIRTHDATE = "urn:portal:acr:student-birthdate"


class Next(StrEnum):
    """The next step of an authorization request."""

    SIGN_IN = "sign_in"
    SETUP = "setup"  # a required first-sign-in step (security questions) comes first
    CONSENT = "consent"
    ISSUE = "issue"
    LOGIN_REQUIRED = "login_required"
    CONSENT_REQUIRED = "consent_required"
    INTERACTION_REQUIRED = "interaction_required"


@dataclass(frozen=True)
class AuthorizeFacts:
    """Everything the decision depends on."""

    prompts: frozenset[str]
    max_age_seconds: int | None
    auth_time: datetime | None  # of the live SSO session, None if not signed in
    now: datetime
    reauthenticated: bool  # a sign-in happened for this very request (prompt=login/max_age)
    is_first_party: bool
    has_consent: bool
    # id_token_hint names someone other than the signed-in person (OIDC Core 3.1.2.1).
    is_other_person_hinted: bool = False
    # The signed-in person must finish a required step (security questions) before any app.
    needs_setup: bool = False


def parse_max_age(raw: str | None) -> int | None:
    """max_age as seconds, or None if absent; ValueError if not a non-negative integer."""
    if raw is None or raw == "":
        return None
    value = int(raw)
    if value < 0:
        raise ValueError("max_age must not be negative")
    return value


def parse_claims_request(raw: str | None) -> dict[str, list[str]] | None:
    """The OIDC `claims` parameter (Core 5.5) as {"id_token": [...], "userinfo": [...]}.

    Only claim names are kept: whether a claim is released is still decided by the client's
    allowed scopes, so asking never widens what an app may see. ValueError if malformed.
    """
    if not raw:
        return None
    document = json.loads(raw)
    if not isinstance(document, dict):
        raise ValueError("claims must be a JSON object")
    parsed: dict[str, list[str]] = {}
    for target in ("id_token", "userinfo"):
        members = document.get(target) or {}
        if not isinstance(members, dict):
            raise ValueError(f"claims.{target} must be a JSON object")
        parsed[target] = sorted(str(name) for name in members)
    return parsed


def needs_sign_in(facts: AuthorizeFacts) -> bool:
    """No session, prompt=login, or a sign-in older than max_age."""
    if facts.auth_time is None or facts.is_other_person_hinted:
        return True
    if facts.reauthenticated:
        return False
    if "login" in facts.prompts:
        return True
    if facts.max_age_seconds is not None:
        return facts.now - facts.auth_time > timedelta(seconds=facts.max_age_seconds)
    return False


def needs_consent(facts: AuthorizeFacts) -> bool:
    """Third-party apps ask once per scope set; prompt=consent always asks."""
    if "consent" in facts.prompts:
        return True
    return not facts.is_first_party and not facts.has_consent


def decide(facts: AuthorizeFacts) -> Next:
    """The next step; prompt=none turns any interaction into its spec error."""
    silent = "none" in facts.prompts
    if needs_sign_in(facts):
        return Next.LOGIN_REQUIRED if silent else Next.SIGN_IN
    if facts.needs_setup:
        return Next.INTERACTION_REQUIRED if silent else Next.SETUP
    if needs_consent(facts):
        return Next.CONSENT_REQUIRED if silent else Next.CONSENT
    return Next.ISSUE
