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
from idp.bridge.factory import build_bridge
from idp.bridge.legacy import LegacyCredentialService
from idp.bridge.service import BridgeService
from idp.clock import Clock
from idp.config import Settings
from idp.credentials.factory import build_credentials
from idp.credentials.hashing import SecretHasher
from idp.credentials.questions import SecurityQuestionService
from idp.credentials.service import SignInService
from idp.credentials.students import StudentSignInService
from idp.lifecycle.factory import build_lifecycle
from idp.lifecycle.messages import LifecycleMessages
from idp.lifecycle.service import LifecycleService
from idp.notifications.outbox import Outbox
from idp.oidc.claims import ClaimsService
from idp.oidc.consent import ConsentService
from idp.oidc.factory import build_oidc
from idp.oidc.grants import OidcDeps
from idp.oidc.keys import SigningKeyService
from idp.oidc.logout import LogoutService
from idp.oidc.sessions import SsoSessionService
from idp.oidc.tokens import TokenStore
from idp.policy import Policies
from idp.recovery.factory import build_recovery
from idp.recovery.messages import RecoveryMessages
from idp.recovery.service import RecoveryService
from idp.registration.factory import build_registration
from idp.registration.messages import EmailLinks, RegistrationMessages
from idp.registration.provisioning import ProvisioningService
from idp.registration.service import RegistrationService
from idp.staff.desk import StaffDesk, build_desk
from idp.staff.factory import build_staff
from idp.staff.second_factor import SecondFactorService, build_second_factor
from idp.staff.service import StaffService


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
    second_factor: SecondFactorService
    desk: StaffDesk
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
    """Wire every service to the (scoped) session, clock and policies, complete at
    construction: each capability's one factory gets all its collaborators here, in
    dependency order, and nothing is connected afterwards."""
    # The pieces every capability is built with.
    audit = AuditLog(session, clock, request_id)
    accounts = AccountService(session, clock, policies.accounts, audit)
    outbox = Outbox(session, clock)
    oidc = build_oidc(
        session=session,
        clock=clock,
        policy=policies.oidc,
        claims=policies.claims,
        rollout=policies.rollout,
        issuer=settings.issuer,
        key_encryption_key=settings.key_encryption_key,
        audit=audit,
        outbox=outbox,
    )
    access = oidc.logout  # the one path that ends access (DESIGN.md 7)
    hasher = SecretHasher(policies.credentials.hashing)
    # One signer for every emailed link (purposes are salted apart inside it).
    links = EmailLinks(
        SignedLinks(settings.secret_key, clock), policies.lifecycle.registration, settings.issuer
    )
    name_key = settings.secret_key.encode()  # HMAC key for names in the throttle table

    # Each capability's one factory, in dependency order.
    bridge = build_bridge(
        session=session,
        clock=clock,
        settings=settings.bridge,
        hasher=hasher,
        links=links,
        accounts=accounts,
        outbox=outbox,
        audit=audit,
    )
    registration = build_registration(
        session=session,
        clock=clock,
        policy=policies.lifecycle.registration,
        passwords=policies.credentials.passwords,
        lockout=policies.credentials.lockout,
        rollout=policies.rollout,
        name_key=name_key,
        links=links,
        accounts=accounts,
        hasher=hasher,
        outbox=outbox,
        audit=audit,
        upgrade_route=bridge.bridge.verify_route,
    )
    lifecycle = build_lifecycle(
        session=session,
        clock=clock,
        policy=policies.lifecycle,
        usernames=policies.accounts.usernames,
        links=links,
        accounts=accounts,
        audit=audit,
        outbox=outbox,
        access=access,
    )
    credentials = build_credentials(
        session=session,
        clock=clock,
        policy=policies.credentials,
        students=policies.accounts.students,
        rollout=policies.rollout,
        registration=policies.lifecycle.registration,
        hasher=hasher,
        name_key=name_key,
        accounts=accounts,
        audit=audit,
        bridge=bridge.bridge,
    )
    second_factor = build_second_factor(
        session=session,
        clock=clock,
        audit=audit,
        policy=policies.staff.second_factor,
        key_encryption_key=settings.key_encryption_key,
        name_key=name_key,
    )
    staff = build_staff(
        session=session,
        clock=clock,
        policy=policies.staff,
        activation_keys=registration.activation_keys,
        lifecycle=lifecycle.lifecycle,
        audit=audit,
        access=access,
        accounts=accounts,
        sign_in=credentials.sign_in,
        student_sign_in=credentials.student_sign_in,
        outbox=outbox,
        questions=credentials.questions,
        second_factor=second_factor,
    )
    recovery = build_recovery(
        session=session,
        clock=clock,
        policy=policies.lifecycle.recovery,
        passwords=policies.credentials.passwords,
        lockout=policies.credentials.lockout,
        name_key=name_key,
        links=links,
        accounts=accounts,
        hasher=hasher,
        questions=credentials.questions,
        outbox=outbox,
        audit=audit,
        access=access,
    )

    return Services(
        policies=policies,
        audit=audit,
        accounts=accounts,
        hasher=hasher,
        outbox=outbox,
        links=links.signer,
        sign_in=credentials.sign_in,
        student_sign_in=credentials.student_sign_in,
        questions=credentials.questions,
        keys=oidc.keys,
        tokens=oidc.tokens,
        sso=oidc.sso,
        consent=oidc.consent,
        claims=oidc.claims,
        oidc_deps=oidc.oidc_deps,
        logout=oidc.logout,
        bridge=bridge.bridge,
        legacy_credentials=bridge.legacy_credentials,
        registration=registration.registration,
        registration_messages=registration.messages,
        provisioning=registration.provisioning,
        lifecycle=lifecycle.lifecycle,
        lifecycle_messages=lifecycle.messages,
        recovery=recovery.recovery,
        recovery_messages=recovery.messages,
        staff=staff,
        second_factor=second_factor,
        desk=build_desk(
            session=session,
            clock=clock,
            policies=policies,
            sign_in=credentials.sign_in,
            student_sign_in=credentials.student_sign_in,
            name_key=name_key,
        ),
    )
