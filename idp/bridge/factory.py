"""The IC bridge's one factory: every collaborator given at construction (issue 15.2)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.bridge.legacy import LegacyCredentialService
from idp.bridge.remote import HttpVerifier
from idp.bridge.service import BridgeService, BridgeSetup
from idp.bridge.verifiers import ImportedVerifier, LegacyVerifier
from idp.clock import Clock
from idp.config import BridgeSettings
from idp.credentials.hashing import SecretHasher
from idp.notifications.outbox import Outbox
from idp.registration.messages import EmailLinks


@dataclass(frozen=True)
class BridgeServices:
    """What the bridge offers: the sign-in and upgrade bridge, and the imported IC hashes."""

    bridge: BridgeService
    legacy_credentials: LegacyCredentialService


def build_bridge(
    *,
    session: Session,
    clock: Clock,
    settings: BridgeSettings,
    hasher: SecretHasher,
    links: EmailLinks,
    accounts: AccountService,
    outbox: Outbox,
    audit: AuditLog,
) -> BridgeServices:
    """The IC bridge (IDP_BRIDGE_MODE), tried by sign-in for names no portal account has."""
    verifier: LegacyVerifier = ImportedVerifier(hasher)
    if settings.mode == "http":
        verifier = HttpVerifier(settings.url, settings.timeout_seconds)
    setup = BridgeSetup(verifier, links.signer, links.policy.email_link_hours)
    bridge = BridgeService(session, clock, setup, (accounts, hasher, outbox, audit))
    legacy = LegacyCredentialService(session, clock, audit)
    return BridgeServices(bridge=bridge, legacy_credentials=legacy)
