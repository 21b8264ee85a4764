"""Roster errors: what staff are told when a restriction cannot be recorded or lifted."""

from __future__ import annotations

from flask_babel import lazy_gettext

from idp.errors import DomainError


class RelationshipNotFoundError(DomainError):
    """No guardian-to-student relationship with these two Person IDs is in the roster."""

    code = "relationship_not_found"
    message = lazy_gettext(
        "The roster does not link this guardian to this student. Check both Person IDs."
    )
    status = 404


class RestrictionReasonRequiredError(DomainError):
    """A restriction or its lifting must say why (a court order, a school decision...)."""

    code = "restriction_reason_required"
    message = lazy_gettext(
        "Give the legal reason, for example the court order number, in at most"
        " %(max_length)s characters."
    )
    status = 400


class AlreadyRestrictedError(DomainError):
    """The relationship is restricted already; a second restriction would hide the first."""

    code = "already_restricted"
    message = lazy_gettext(
        "This guardian's access to this student is already restricted. Lift it first to"
        " record a different reason."
    )
    status = 409


class NotRestrictedError(DomainError):
    """Only a restricted relationship can have its restriction lifted."""

    code = "not_restricted"
    message = lazy_gettext("This guardian's access to this student is not restricted.")
    status = 409


class RestrictionNotAllowedError(DomainError):
    """Only active staff whose role restricts and lifts (staff.toml), at the student's school
    or district-wide, change a guardian's access."""

    code = "restriction_not_allowed"
    message = lazy_gettext(
        "Your staff role does not allow changing a guardian's access, or the student is not at"
        " your school. A school or district administrator can. Check the staff username."
    )
    status = 403
