"""Registration errors: key issuing refusals say why; key checks never say which part failed."""

from __future__ import annotations

from flask_babel import lazy_gettext

from idp.errors import DomainError


class PersonNotFoundError(DomainError):
    """Staff typed a Person ID the roster does not hold."""

    code = "person_not_found"
    message = lazy_gettext("No person with this Person ID is in the roster. Check the number.")
    status = 404


class NotAGuardianError(DomainError):
    """Only guardian Persons can register as guardians."""

    code = "not_a_guardian"
    message = lazy_gettext(
        "This person is not a parent or guardian in the roster, so they cannot get an"
        " activation key."
    )
    status = 409


class NotLegalGuardianError(DomainError):
    """Relatives and other contacts without legal rights get no key."""

    code = "not_legal_guardian"
    message = lazy_gettext(
        "This person is not the legal guardian of any student, so they cannot get an"
        " activation key. Only legal guardians can have a portal account."
    )
    status = 409


class GuardianRestrictedError(DomainError):
    """Every relationship the guardian has is restricted."""

    code = "guardian_restricted"
    message = lazy_gettext(
        "This guardian's access to their students is restricted, so they cannot get an"
        " activation key."
    )
    status = 409


class NoOpenSchoolError(DomainError):
    """The guardian's students are all at schools whose portal is not open yet."""

    code = "no_open_school"
    message = lazy_gettext(
        "None of this guardian's students is enrolled at a school where the portal is open"
        " yet, so they cannot get an activation key now."
    )
    status = 409


class StaffNotAllowedError(DomainError):
    """Only active staff whose role issues keys (staff.toml), at one of the students'
    schools or district-wide, issue keys."""

    code = "staff_not_allowed"
    message = lazy_gettext(
        "Your staff role does not allow issuing this guardian's activation key, or none of"
        " their students is at your school. Check the staff username."
    )
    status = 403


class GuardianHasAccountError(DomainError):
    """The guardian already has a live account."""

    code = "guardian_has_account"
    message = lazy_gettext(
        "This guardian already has a portal account. They can use Forgot username or Forgot"
        " password; cancel the account first if they must register again."
    )
    status = 409


class InvalidActivationError(DomainError):
    """Wrong Person ID, wrong, used, revoked or expired key: one message for all of them."""

    keeps_changes = True  # recorded first (idp/unit_of_work.py)

    code = "invalid_activation"
    message = lazy_gettext(
        "This Person ID and activation key do not work together. Check both and try again. If"
        " your key is older than %(days)s days or was already used, ask your school for a new one."
    )


class ActivationLockedError(DomainError):
    """Too many wrong keys for this Person ID."""

    code = "activation_locked"
    message = lazy_gettext("Too many attempts. Try again in %(minutes)s minutes.")
    status = 429


class RegistrationExpiredError(DomainError):
    """Step 2 was reached, but the proof from step 1 is gone (key used or revoked since)."""

    code = "registration_expired"
    message = lazy_gettext(
        "Your registration has expired. Please start again with your Person ID and activation key."
    )


class LinkInvalidError(DomainError):
    """A link that was never ours, or was altered."""

    code = "link_invalid"
    message = lazy_gettext(
        "This link is not valid. Copy the whole link from the email, or ask for a new one."
    )
    status = 404


class LinkExpiredError(DomainError):
    """A genuine link past its lifetime; a new one can be sent."""

    code = "link_expired"
    message = lazy_gettext("This link has expired. We can send you a new one.")
    status = 410

    def __init__(self, account_id: int, **params: object) -> None:
        super().__init__(**params)
        self.account_id = account_id


class LinkUsedError(DomainError):
    """The email was already confirmed with this (or another) link."""

    code = "link_used"
    message = lazy_gettext(
        "This link was already used: your email address is confirmed. You can sign in once we"
        " have told you your account is ready."
    )
    status = 409


class ResendTooSoonError(DomainError):
    """A new link was sent very recently."""

    code = "resend_too_soon"
    message = lazy_gettext(
        "We sent you a new link a moment ago. Please wait %(seconds)s seconds before asking again."
    )
    status = 429


class NothingToResendError(DomainError):
    """The registration is no longer waiting for its email link."""

    code = "nothing_to_resend"
    message = lazy_gettext(
        "This registration is no longer waiting for an email confirmation. Try signing in, or"
        " register again with your Person ID and activation key."
    )
    status = 409


class IdTypeUnknownError(DomainError):
    """The photo ID type must be one of the recorded kinds."""

    code = "id_type_unknown"
    message = lazy_gettext("Choose the type of photo ID you checked: %(choices)s.")
