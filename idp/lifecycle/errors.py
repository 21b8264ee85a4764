"""Lifecycle errors: revalidation links and staff cancellation."""

from __future__ import annotations

from flask_babel import lazy_gettext

from idp.errors import DomainError


class RevalidationLinkInvalidError(DomainError):
    """The link was altered or is not one of ours."""

    code = "revalidation_link_invalid"
    message = lazy_gettext(
        "This link is not valid. Copy the whole link from the email, or sign in again to get"
        " a new one."
    )
    status = 404


class RevalidationLinkUsedError(DomainError):
    """The account is no longer disabled (the link was used, or another link was)."""

    code = "revalidation_link_used"
    message = lazy_gettext("Your account is already turned back on. Sign in to continue.")
    status = 409


class RevalidationLinkExpiredError(DomainError):
    """The link is past its lifetime."""

    code = "revalidation_link_expired"
    message = lazy_gettext(
        "This link has expired. Sign in again with your username and password to get a new one."
    )
    status = 410


class CancelNotAllowedError(DomainError):
    """Only active staff whose role cancels (staff.toml), at the person's school(s) or
    district-wide, cancel accounts."""

    code = "cancel_not_allowed"
    message = lazy_gettext(
        "Your staff role does not allow cancelling this account, or the person is not at your"
        " school. A school or district administrator can. Check the staff username."
    )
    status = 403


class AccountNotFoundError(DomainError):
    """Staff named an account that does not exist or is already gone."""

    code = "account_not_found"
    message = lazy_gettext(
        "No account with this username can be cancelled: it does not exist, or it is already"
        " cancelled or deleted."
    )
    status = 404


class CancelReasonRequiredError(DomainError):
    """A cancellation must say why."""

    code = "cancel_reason_required"
    message = lazy_gettext(
        "Give the reason for the cancellation in at most %(max_length)s characters."
    )
    status = 400
