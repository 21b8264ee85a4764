"""Refusals of giving and taking away staff roles (issue 16.1).

Apart from idp/staff/errors.py while the second factor's errors are written there; the lead
may merge the two files.
"""

from __future__ import annotations

from flask_babel import lazy_gettext

from idp.errors import DomainError


class StaffAccountNotFoundError(DomainError):
    """No account has this username."""

    code = "staff_account_not_found"
    message = lazy_gettext(
        "No account has the username %(username)s. Staff accounts are created by district IT"
        " first; check the spelling."
    )
    status = 404


class NotAStaffAccountError(DomainError):
    """The account is a guardian's or a student's: only staff accounts hold roles."""

    code = "not_a_staff_account"
    message = lazy_gettext(
        "%(username)s is not a staff account. Only staff accounts can hold a staff role."
    )


class StaffAccountInactiveError(DomainError):
    """Roles are given only to active staff accounts."""

    code = "staff_account_inactive"
    message = lazy_gettext(
        "The staff account %(username)s is not active. Enable the account before giving it a role."
    )


class SchoolRequiredError(DomainError):
    """Every role but district_admin holds at one school."""

    code = "staff_school_required"
    message = lazy_gettext("The role %(role)s is held at one school. Give the school's code.")


class DistrictAdminSchoolError(DomainError):
    """A district admin works district-wide, never at one school."""

    code = "district_admin_has_no_school"
    message = lazy_gettext("A district administrator works for every school. Leave the school out.")


class SchoolNotFoundError(DomainError):
    """No active school has this code."""

    code = "staff_school_not_found"
    message = lazy_gettext(
        "No active school has the code %(school)s. Check the code (as in the roster's orgs.csv)."
    )
    status = 404


class LastDistrictAdminError(DomainError):
    """The last active district admin keeps the role: without one nobody could give roles."""

    code = "last_district_admin"
    message = lazy_gettext(
        "%(username)s is the last district administrator. Give the role to someone else first:"
        " without one, nobody could manage staff roles."
    )
    status = 409


class StaffManagementNotAllowedError(DomainError):
    """Only staff whose role may manage_staff (staff.toml) give and take away roles."""

    code = "manage_staff_not_allowed"
    message = lazy_gettext(
        "Your staff role cannot give or take away this role. Ask a district administrator."
    )
    status = 403
