"""Builds the domain services once per application; views fetch them via web/deps.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

import idp.models  # noqa: F401 - registers every table on the metadata (Alembic, create_all)
from idp.accounts.links import SignedLinks
from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.bridge.legacy import LegacyCredentialService
from idp.bridge.remote import HttpVerifier
from idp.bridge.service import BridgeService, BridgeSetup
from idp.bridge.verifiers import ImportedVerifier, LegacyVerifier
from idp.clock import Clock
from idp.config import Settings
from idp.credentials.hashing import SecretHasher
from idp.credentials.questions import SecurityQuestionService
from idp.credentials.service import SignInService, SignInSetup
from idp.credentials.students import StudentSignInService, StudentSignInSetup
from idp.credentials.throttle import FailureThrottle
from idp.lifecycle.messages import LifecycleMessages
from idp.lifecycle.service import LifecycleDeps, LifecycleService
from idp.notifications.outbox import Outbox
from idp.oidc.claims import ClaimsService
from idp.oidc.consent import ConsentService
from idp.oidc.keys import SigningKeyService, build_signing_keys
from idp.oidc.sessions import SsoSessionService
from idp.oidc.tokens import TokenStore
from idp.policy import Policies
from idp.recovery.messages import RecoveryMessages
from idp.recovery.service import RecoveryDeps, RecoveryService, RecoverySetup
from idp.registration.keys import ActivationKeyService
from idp.registration.messages import EmailLinks, RegistrationMessages
from idp.registration.provisioning import ProvisioningService
from idp.registration.service import RegistrationService, RegistrationSetup
from idp.roster.access import GuardianAccess
from idp.roster.restrictions import RestrictionService


@dataclass(frozen=True)
class Services:
    """The application's service objects."""

    policies: Policies
    audit: AuditLog
    accounts: AccountService
    hasher: SecretHasher
    sign_in: SignInService
    keys: SigningKeyService
    tokens: TokenStore
    sso: SsoSessionService
    consent: ConsentService
    claims: ClaimsService
    outbox: Outbox
    links: SignedLinks
    activation_keys: ActivationKeyService
    registration: RegistrationService
    registration_messages: RegistrationMessages
    provisioning: ProvisioningService
    lifecycle: LifecycleService
    lifecycle_messages: LifecycleMessages
    questions: SecurityQuestionService
    recovery: RecoveryService
    recovery_messages: RecoveryMessages
    restrictions: RestrictionService
    student_sign_in: StudentSignInService
    bridge: BridgeService
    legacy_credentials: LegacyCredentialService

    def mail_preparers(self) -> dict[str, Any]:
        """Every email template's preparer, for the outbox mailer."""
        return {
            **self.registration_messages.preparers(),
            **self.recovery_messages.preparers(),
            **self.lifecycle_messages.preparers(),
        }


def build_services(
    session: Session,
    clock: Clock,
    policies: Policies,
    settings: Settings,
    request_id: Callable[[], str | None] = lambda: None,
) -> Services:
    """Wire services to the (scoped) session, clock and policies."""
    audit = AuditLog(session, clock, request_id)
    accounts = AccountService(session, clock, policies.accounts, audit)
    hasher = SecretHasher(policies.credentials.hashing)
    setup = SignInSetup(
        lockout=policies.credentials.lockout,
        hasher=hasher,
        name_key=settings.secret_key.encode(),
        provisioning_minutes=policies.lifecycle.registration.provisioning_promise_minutes,
        link_hours=policies.lifecycle.registration.email_link_hours,
    )
    tokens = TokenStore(session, clock, policies.oidc.tokens)
    outbox = Outbox(session, clock)
    # One signer for every emailed link (purposes are salted apart inside it).
    links = EmailLinks(
        SignedLinks(settings.secret_key, clock), policies.lifecycle.registration, settings.issuer
    )
    shared = (audit, accounts, hasher, outbox, links)
    registration = _registration_services(session, clock, policies, settings, shared)
    recovery = _recovery_services(session, clock, policies, settings, shared)
    sign_in = SignInService(session, clock, setup, accounts, audit)
    connect = (sign_in, registration["registration_messages"])
    return Services(
        policies=policies,
        audit=audit,
        accounts=accounts,
        hasher=hasher,
        sign_in=sign_in,
        keys=build_signing_keys(session, clock, policies, settings),
        tokens=tokens,
        sso=SsoSessionService(session, clock, policies.oidc.sessions),
        consent=ConsentService(session, clock, audit, tokens),
        claims=ClaimsService(
            session, policies.claims, GuardianAccess(session, policies.rollout), clock
        ),
        outbox=outbox,
        links=links.signer,
        restrictions=RestrictionService(session, clock, audit),
        **registration,
        **recovery,
        **_student_services(session, clock, policies, settings, shared),
        **_bridge_services(session, clock, settings, shared, connect),
    )


def _bridge_services(
    session: Session,
    clock: Clock,
    settings: Settings,
    shared: tuple[AuditLog, AccountService, SecretHasher, Outbox, EmailLinks],
    connect: tuple[SignInService, RegistrationMessages],
) -> dict[str, Any]:
    """The IC bridge (IDP_BRIDGE_MODE), tried by sign-in for names no portal account has."""
    audit, accounts, hasher, outbox, email_links = shared
    verifier: LegacyVerifier = ImportedVerifier(hasher)
    if settings.bridge.mode == "http":
        verifier = HttpVerifier(settings.bridge.url, settings.bridge.timeout_seconds)
    setup = BridgeSetup(verifier, email_links.signer, email_links.policy.email_link_hours)
    bridge = BridgeService(session, clock, setup, (accounts, hasher, outbox, audit))
    sign_in, registration_messages = connect
    sign_in.connect_bridge(bridge)
    # The upgrade sends registration's confirmation email, with its own link and page.
    registration_messages.connect_verify_route(bridge.verify_route)
    return {"bridge": bridge, "legacy_credentials": LegacyCredentialService(session, clock, audit)}


def _student_services(
    session: Session,
    clock: Clock,
    policies: Policies,
    settings: Settings,
    shared: tuple[AuditLog, AccountService, SecretHasher, Outbox, EmailLinks],
) -> dict[str, Any]:
    """Student sign-in (accounts.toml [students]) with its own lockout."""
    audit, accounts, hasher, _outbox, _links = shared
    setup = StudentSignInSetup(
        policy=policies.accounts.students,
        rollout=policies.rollout,
        passwords=policies.credentials.passwords,
        hasher=hasher,
        name_key=settings.secret_key.encode(),
    )
    return {"student_sign_in": StudentSignInService(session, clock, setup, accounts, audit)}


def _recovery_services(
    session: Session,
    clock: Clock,
    policies: Policies,
    settings: Settings,
    shared: tuple[AuditLog, AccountService, SecretHasher, Outbox, EmailLinks],
) -> dict[str, Any]:
    """Security questions, forgot and change password, and their emails."""
    audit, accounts, hasher, outbox, email_links = shared
    credentials, key = policies.credentials, settings.secret_key.encode()
    questions = SecurityQuestionService(
        session, clock, credentials.security_questions, hasher, audit
    )
    setup = RecoverySetup(
        policy=policies.lifecycle.recovery,
        passwords=credentials.passwords,
        links=email_links.signer,
        answers_throttle=FailureThrottle(session, clock, credentials.lockout, key, "recover:"),
        sign_in_throttle=FailureThrottle(session, clock, credentials.lockout, key),
    )
    deps = RecoveryDeps(accounts, hasher, questions, outbox, audit)
    minutes = policies.lifecycle.recovery.reset_link_minutes
    return {
        "questions": questions,
        "recovery": RecoveryService(session, clock, setup, deps),
        "recovery_messages": RecoveryMessages(session, email_links, minutes),
    }


def _registration_services(
    session: Session,
    clock: Clock,
    policies: Policies,
    settings: Settings,
    shared: tuple[AuditLog, AccountService, SecretHasher, Outbox, EmailLinks],
) -> dict[str, Any]:
    """Activation keys, registration, its emails, provisioning and the lifecycle jobs."""
    audit, accounts, hasher, outbox, email_links = shared
    access = GuardianAccess(session, policies.rollout)
    policy = policies.lifecycle.registration
    keys = ActivationKeyService(session, clock, policy, access, audit)
    throttle = FailureThrottle(
        session, clock, policies.credentials.lockout, settings.secret_key.encode(), "register:"
    )
    setup = RegistrationSetup(policy, policies.credentials.passwords, throttle, email_links.signer)
    return {
        "activation_keys": keys,
        "registration": RegistrationService(
            session, clock, setup, (keys, accounts, hasher, outbox, audit)
        ),
        "registration_messages": RegistrationMessages(session, clock, email_links, audit),
        "provisioning": ProvisioningService(session, clock, access, outbox, audit),
        "lifecycle": LifecycleService(
            session,
            clock,
            policies.lifecycle,
            policies.accounts.usernames,
            LifecycleDeps(accounts, audit, outbox, email_links.signer),
        ),
        "lifecycle_messages": LifecycleMessages(
            session, email_links, policies.lifecycle.inactivity
        ),
    }
