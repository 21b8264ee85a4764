"""Builds the domain services once per application; views fetch them via web/deps.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

import idp.models  # noqa: F401 - registers every table on the metadata (Alembic, create_all)
from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.config import Settings
from idp.credentials.hashing import SecretHasher
from idp.credentials.service import SignInService, SignInSetup
from idp.policy import Policies


@dataclass(frozen=True)
class Services:
    """The application's service objects."""

    policies: Policies
    audit: AuditLog
    accounts: AccountService
    hasher: SecretHasher
    sign_in: SignInService


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
    sign_in = SignInService(session, clock, setup, accounts, audit)
    return Services(
        policies=policies, audit=audit, accounts=accounts, hasher=hasher, sign_in=sign_in
    )
