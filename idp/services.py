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
from idp.oidc.grants import OidcDeps
from idp.oidc.keys import SigningKeyService, build_signing_keys
from idp.oidc.logout import LogoutService
from idp.oidc.sessions import SsoSessionService
from idp.oidc.tokens import TokenStore
from idp.policy import Policies
from idp.recovery.messages import RecoveryMessages
from idp.recovery.service import RecoveryDeps, RecoveryService, RecoverySetup
from idp.registration.keys import ActivationKeyService
from idp.registration.messages import EmailLinks, RegistrationMessages, VerifyRoute
from idp.registration.provisioning import ProvisioningService
from idp.registration.service import RegistrationService, RegistrationSetup
from idp.roster.access import GuardianAccess
from idp.roster.restrictions import GuardianRestrictions
from idp.staff.service import StaffDeps, StaffService


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
    oidc_deps: OidcDeps
    logout: LogoutService
    registration: RegistrationService
    registration_messages: RegistrationMessages
    provisioning: ProvisioningService
    lifecycle: LifecycleService
    lifecycle_messages: LifecycleMessages
    questions: SecurityQuestionService
    recovery: RecoveryService
    recovery_messages: RecoveryMessages
    staff: StaffService
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


@dataclass(frozen=True)
class Shared:
    """What several capabilities are built with, by name (no positional tuples)."""

    session: Session
    clock: Clock
    policies: Policies
    settings: Settings
    audit: AuditLog
    accounts: AccountService
    hasher: SecretHasher
    outbox: Outbox
    links: EmailLinks
    access: LogoutService  # the one path that ends access (DESIGN.md 7)


def build_services(
    session: Session,
    clock: Clock,
    policies: Policies,
    settings: Settings,
    request_id: Callable[[], str | None] = lambda: None,
) -> Services:
    """Wire every service to the (scoped) session, clock and policies, complete at
    construction: each gets all its collaborators here, none is connected afterwards."""
    audit = AuditLog(session, clock, request_id)
    accounts = AccountService(session, clock, policies.accounts, audit)
    outbox = Outbox(session, clock)
    oidc = _oidc_services(session, clock, policies, settings, audit, outbox)
    shared = Shared(
        session=session,
        clock=clock,
        policies=policies,
        settings=settings,
        audit=audit,
        accounts=accounts,
        hasher=SecretHasher(policies.credentials.hashing),
        outbox=outbox,
        # One signer for every emailed link (purposes are salted apart inside it).
        links=EmailLinks(
            SignedLinks(settings.secret_key, clock),
            policies.lifecycle.registration,
            settings.issuer,
        ),
        access=oidc["logout"],
    )
    bridge = _bridge_services(shared)
    keys = _activation_keys(shared)
    registration = _registration_services(shared, keys, bridge["bridge"].verify_route)
    lifecycle = _lifecycle_services(shared)
    return Services(
        policies=policies,
        audit=audit,
        accounts=accounts,
        hasher=shared.hasher,
        outbox=outbox,
        links=shared.links.signer,
        sign_in=_sign_in_service(shared, bridge["bridge"]),
        staff=_staff_service(shared, keys, lifecycle["lifecycle"]),
        **oidc,
        **bridge,
        **registration,
        **lifecycle,
        **_recovery_services(shared),
        **_student_services(shared),
    )


def _oidc_services(
    session: Session,
    clock: Clock,
    policies: Policies,
    settings: Settings,
    audit: AuditLog,
    outbox: Outbox,
) -> dict[str, Any]:
    """Tokens, signing keys, SSO sessions, consent, claims and the one path that ends access;
    the Authlib server is built from `oidc_deps` with the app (idp/__init__.py)."""
    tokens = TokenStore(session, clock, policies.oidc.tokens)
    sso = SsoSessionService(session, clock, policies.oidc.sessions)
    claims = ClaimsService(
        session, policies.claims, GuardianAccess(session, policies.rollout), clock
    )
    deps = OidcDeps(
        session=session,
        clock=clock,
        policy=policies.oidc,
        issuer=settings.issuer,
        tokens=tokens,
        keys=build_signing_keys(session, clock, policies, settings),
        claims=claims,
    )
    return {
        "oidc_deps": deps,
        "tokens": tokens,
        "keys": deps.keys,
        "sso": sso,
        "consent": ConsentService(session, clock, audit, tokens),
        "claims": claims,
        "logout": LogoutService(deps, sso, outbox, audit),
    }


def _sign_in_service(shared: Shared, bridge: BridgeService) -> SignInService:
    """Portal sign-in, which also accepts IC credentials through the bridge (DESIGN.md 5)."""
    policies, settings = shared.policies, shared.settings
    setup = SignInSetup(
        lockout=policies.credentials.lockout,
        hasher=shared.hasher,
        name_key=settings.secret_key.encode(),
        provisioning_minutes=policies.lifecycle.registration.provisioning_promise_minutes,
        link_hours=policies.lifecycle.registration.email_link_hours,
    )
    return SignInService(shared.session, shared.clock, setup, shared.accounts, shared.audit, bridge)


def _bridge_services(shared: Shared) -> dict[str, Any]:
    """The IC bridge (IDP_BRIDGE_MODE), tried by sign-in for names no portal account has."""
    settings = shared.settings
    verifier: LegacyVerifier = ImportedVerifier(shared.hasher)
    if settings.bridge.mode == "http":
        verifier = HttpVerifier(settings.bridge.url, settings.bridge.timeout_seconds)
    links = shared.links
    setup = BridgeSetup(verifier, links.signer, links.policy.email_link_hours)
    bridge = BridgeService(
        shared.session,
        shared.clock,
        setup,
        (shared.accounts, shared.hasher, shared.outbox, shared.audit),
    )
    legacy = LegacyCredentialService(shared.session, shared.clock, shared.audit)
    return {"bridge": bridge, "legacy_credentials": legacy}


def _student_services(shared: Shared) -> dict[str, Any]:
    """Student sign-in (accounts.toml [students]) with its own lockout."""
    policies = shared.policies
    setup = StudentSignInSetup(
        policy=policies.accounts.students,
        rollout=policies.rollout,
        passwords=policies.credentials.passwords,
        hasher=shared.hasher,
        name_key=shared.settings.secret_key.encode(),
    )
    service = StudentSignInService(
        shared.session, shared.clock, setup, shared.accounts, shared.audit
    )
    return {"student_sign_in": service}


def _recovery_services(shared: Shared) -> dict[str, Any]:
    """Security questions, forgot and change password, and their emails."""
    session, clock = shared.session, shared.clock
    credentials, key = shared.policies.credentials, shared.settings.secret_key.encode()
    questions = SecurityQuestionService(
        session, clock, credentials.security_questions, shared.hasher, shared.audit
    )
    setup = RecoverySetup(
        policy=shared.policies.lifecycle.recovery,
        passwords=credentials.passwords,
        links=shared.links.signer,
        answers_throttle=FailureThrottle(session, clock, credentials.lockout, key, "recover:"),
        sign_in_throttle=FailureThrottle(session, clock, credentials.lockout, key),
    )
    deps = RecoveryDeps(
        accounts=shared.accounts,
        hasher=shared.hasher,
        questions=questions,
        outbox=shared.outbox,
        audit=shared.audit,
        access=shared.access,
    )
    minutes = shared.policies.lifecycle.recovery.reset_link_minutes
    return {
        "questions": questions,
        "recovery": RecoveryService(session, clock, setup, deps),
        "recovery_messages": RecoveryMessages(session, shared.links, minutes),
    }


def _activation_keys(shared: Shared) -> ActivationKeyService:
    """Activation keys: who may get one, new ones (issued by staff), usable ones (registration)."""
    session, policies = shared.session, shared.policies
    access = GuardianAccess(session, policies.rollout)
    return ActivationKeyService(session, shared.clock, policies.lifecycle.registration, access)


def _registration_services(
    shared: Shared, keys: ActivationKeyService, upgrade_route: VerifyRoute
) -> dict[str, Any]:
    """Registration, its emails (the IC upgrade's confirmation link among them) and
    provisioning."""
    session, clock, policies = shared.session, shared.clock, shared.policies
    access = GuardianAccess(session, policies.rollout)
    policy = policies.lifecycle.registration
    throttle = FailureThrottle(
        session,
        clock,
        policies.credentials.lockout,
        shared.settings.secret_key.encode(),
        "register:",
    )
    setup = RegistrationSetup(policy, policies.credentials.passwords, throttle, shared.links.signer)
    collaborators = (keys, shared.accounts, shared.hasher, shared.outbox, shared.audit)
    messages = RegistrationMessages(session, clock, shared.links, shared.audit, [upgrade_route])
    return {
        "registration": RegistrationService(session, clock, setup, collaborators),
        "registration_messages": messages,
        "provisioning": ProvisioningService(session, clock, access, shared.outbox, shared.audit),
    }


def _lifecycle_services(shared: Shared) -> dict[str, Any]:
    """The inactivity sweep, revalidation, cancellation and their emails."""
    session, policies = shared.session, shared.policies
    deps = LifecycleDeps(
        accounts=shared.accounts,
        audit=shared.audit,
        outbox=shared.outbox,
        links=shared.links.signer,
        access=shared.access,
    )
    return {
        "lifecycle": LifecycleService(
            session, shared.clock, policies.lifecycle, policies.accounts.usernames, deps
        ),
        "lifecycle_messages": LifecycleMessages(
            session, shared.links, policies.lifecycle.inactivity
        ),
    }


def _staff_service(
    shared: Shared, keys: ActivationKeyService, lifecycle: LifecycleService
) -> StaffService:
    """The school's desk: the use cases in which a staff member acts, each authorized once,
    composed from the capabilities that own the rules."""
    deps = StaffDeps(
        restrictions=GuardianRestrictions(shared.session, shared.clock),
        keys=keys,
        lifecycle=lifecycle,
        audit=shared.audit,
        access=shared.access,
    )
    return StaffService(shared.session, deps)
