"""Every model, imported once so Alembic and create_app see the whole schema."""

from idp.accounts.models import Account
from idp.audit.models import AuditEvent
from idp.bridge.models import LegacyCredential
from idp.credentials.models import SecurityAnswer, SignInThrottle
from idp.lifecycle.models import SweepRun
from idp.notifications.models import OutboxMessage
from idp.oidc.models import (
    AuthorizationCode,
    ClientGeneration,
    Consent,
    OAuthToken,
    OidcClient,
    SigningKey,
    SsoSession,
    SsoSessionClient,
)
from idp.registration.models import ActivationKey
from idp.roster.models import Enrollment, Person, Relationship, School
from idp.staff.models import StaffAssignment
from idp.staff.search_models import AccountSearchTerm, PersonSearchSchool, PersonSearchTerm
from idp.web.session_models import BrowserSession

__all__ = [
    "Account",
    "AccountSearchTerm",
    "ActivationKey",
    "AuditEvent",
    "AuthorizationCode",
    "BrowserSession",
    "ClientGeneration",
    "Consent",
    "Enrollment",
    "LegacyCredential",
    "OAuthToken",
    "OidcClient",
    "OutboxMessage",
    "Person",
    "PersonSearchSchool",
    "PersonSearchTerm",
    "Relationship",
    "School",
    "SecurityAnswer",
    "SignInThrottle",
    "SigningKey",
    "SsoSession",
    "SsoSessionClient",
    "StaffAssignment",
    "SweepRun",
]
