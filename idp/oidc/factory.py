"""The OIDC capability's one factory: every collaborator given at construction (issue 15.2)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.notifications.outbox import Outbox
from idp.oidc.claims import ClaimsService
from idp.oidc.consent import ConsentService
from idp.oidc.disclosures import DisclosureLog
from idp.oidc.grants import OidcDeps
from idp.oidc.keys import SigningKeyService
from idp.oidc.logout import LogoutService
from idp.oidc.sessions import SsoSessionService
from idp.oidc.tokens import TokenStore
from idp.policy import ClaimsPolicy, OidcPolicy, RolloutPolicy
from idp.roster.access import GuardianAccess


@dataclass(frozen=True)
class OidcServices:
    """What the OIDC capability offers; `logout` is the one path that ends access."""

    oidc_deps: OidcDeps
    tokens: TokenStore
    keys: SigningKeyService
    sso: SsoSessionService
    consent: ConsentService
    claims: ClaimsService
    logout: LogoutService


def build_oidc(
    *,
    session: Session,
    clock: Clock,
    policy: OidcPolicy,
    claims: ClaimsPolicy,
    rollout: RolloutPolicy,
    issuer: str,
    key_encryption_key: str,
    audit: AuditLog,
    outbox: Outbox,
) -> OidcServices:
    """Tokens, signing keys, SSO sessions, consent, claims, the record of disclosures and the
    one path that ends access; the Authlib server is built from `oidc_deps` with the app
    (idp/__init__.py)."""
    tokens = TokenStore(session, clock, policy.tokens)
    sso = SsoSessionService(session, clock, policy.sessions)
    claims_service = ClaimsService(session, claims, GuardianAccess(session, rollout), clock)
    deps = OidcDeps(
        session=session,
        clock=clock,
        policy=policy,
        issuer=issuer,
        tokens=tokens,
        keys=SigningKeyService(session, clock, policy, key_encryption_key),
        claims=claims_service,
        disclosures=DisclosureLog(audit),
    )
    return OidcServices(
        oidc_deps=deps,
        tokens=tokens,
        keys=deps.keys,
        sso=sso,
        consent=ConsentService(session, clock, audit, tokens),
        claims=claims_service,
        logout=LogoutService(deps, sso, outbox, audit),
    )
