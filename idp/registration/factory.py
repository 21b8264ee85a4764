"""Registration's one factory: every collaborator given at construction (issue 15.2)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.credentials.hashing import SecretHasher
from idp.credentials.throttle import FailureThrottle
from idp.notifications.outbox import Outbox
from idp.policy import LockoutPolicy, PasswordPolicy, RegistrationPolicy, RolloutPolicy
from idp.registration.keys import ActivationKeyService
from idp.registration.messages import EmailLinks, RegistrationMessages, VerifyRoute
from idp.registration.provisioning import ProvisioningService
from idp.registration.service import RegistrationService, RegistrationSetup
from idp.roster.access import GuardianAccess


@dataclass(frozen=True)
class RegistrationServices:
    """What registration offers: activation keys (issued by the staff desk), registration,
    its emails and provisioning."""

    activation_keys: ActivationKeyService
    registration: RegistrationService
    messages: RegistrationMessages
    provisioning: ProvisioningService


def build_registration(
    *,
    session: Session,
    clock: Clock,
    policy: RegistrationPolicy,
    passwords: PasswordPolicy,
    lockout: LockoutPolicy,
    rollout: RolloutPolicy,
    name_key: bytes,
    links: EmailLinks,
    accounts: AccountService,
    hasher: SecretHasher,
    outbox: Outbox,
    audit: AuditLog,
    upgrade_route: VerifyRoute,
) -> RegistrationServices:
    """Activation keys (who may get one, new ones, usable ones), registration, its emails
    (the IC upgrade's confirmation link, `upgrade_route`, among them) and provisioning."""
    keys = ActivationKeyService(session, clock, policy, GuardianAccess(session, rollout))
    access = GuardianAccess(session, rollout)
    throttle = FailureThrottle(session, clock, lockout, name_key, "register:")
    setup = RegistrationSetup(policy, passwords, throttle, links.signer)
    collaborators = (keys, accounts, hasher, outbox, audit)
    messages = RegistrationMessages(session, clock, links, audit, [upgrade_route])
    return RegistrationServices(
        activation_keys=keys,
        registration=RegistrationService(session, clock, setup, collaborators),
        messages=messages,
        provisioning=ProvisioningService(session, clock, access, outbox, audit),
    )
