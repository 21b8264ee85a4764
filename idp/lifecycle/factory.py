"""The account lifecycle's one factory: every collaborator given at construction (issue 15.2)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idp.accounts.ending import AccessEnding
from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.lifecycle.messages import LifecycleMessages
from idp.lifecycle.service import LifecycleDeps, LifecycleService
from idp.notifications.outbox import Outbox
from idp.policy import LifecyclePolicy, UsernamePolicy
from idp.registration.messages import EmailLinks


@dataclass(frozen=True)
class LifecycleServices:
    """What the lifecycle offers: its use cases and their emails."""

    lifecycle: LifecycleService
    messages: LifecycleMessages


def build_lifecycle(
    *,
    session: Session,
    clock: Clock,
    policy: LifecyclePolicy,
    usernames: UsernamePolicy,
    links: EmailLinks,
    accounts: AccountService,
    audit: AuditLog,
    outbox: Outbox,
    access: AccessEnding,
) -> LifecycleServices:
    """The inactivity sweep, revalidation, cancellation and their emails."""
    deps = LifecycleDeps(
        accounts=accounts, audit=audit, outbox=outbox, links=links.signer, access=access
    )
    return LifecycleServices(
        lifecycle=LifecycleService(session, clock, policy, usernames, deps),
        messages=LifecycleMessages(session, links, policy.inactivity),
    )
