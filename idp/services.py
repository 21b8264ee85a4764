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
from idp.clock import Clock
from idp.config import Settings
from idp.credentials.hashing import SecretHasher
from idp.credentials.questions import SecurityQuestionService
from idp.credentials.service import SignInService, SignInSetup
from idp.credentials.throttle import FailureThrottle
from idp.lifecycle.service import LifecycleService
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
    questions: SecurityQuestionService
    recovery: RecoveryService
    recovery_messages: RecoveryMessages
    restrictions: RestrictionService

    def mail_preparers(self) -> dict[str, Any]:
        """Every email template's preparer, for the outbox mailer."""
        return {**self.registration_messages.preparers(), **self.recovery_messages.preparers()}


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
    return Services(
        policies=policies,
        audit=audit,
        accounts=accounts,
        hasher=hasher,
        sign_in=SignInService(session, clock, setup, accounts, audit),
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
    )


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
        "lifecycle": LifecycleService(session, clock, policy, accounts, audit),
    }
