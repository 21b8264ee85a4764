"""Staff errors: the second factor (issue 16.1; messages never echo a code back) and the
desk's actions (issue 16.5; a refusal never says what another school holds)."""

from __future__ import annotations

from flask_babel import lazy_gettext

from idp.errors import DomainError


class NotStaffAccountError(DomainError):
    """Only staff accounts enroll an authenticator app."""

    code = "second_factor_not_staff"
    message = lazy_gettext("Only staff accounts use an authenticator app.")
    status = 403


class SecondFactorAlreadyEnrolledError(DomainError):
    """Enrollment is confirmed: a new authenticator only after a district admin's reset."""

    code = "second_factor_already_enrolled"
    message = lazy_gettext(
        "This account already has an authenticator app. If you lost it, ask a district"
        " administrator to reset it."
    )
    status = 409


class SecondFactorNotStartedError(DomainError):
    """A confirmation without a pending enrollment (or another one replaced it meanwhile)."""

    code = "second_factor_not_started"
    message = lazy_gettext(
        "Your authenticator app setup has expired or was restarted. Please start again."
    )


class EnrollmentCodeWrongError(DomainError):
    """The first code does not match the pending secret: nothing is enrolled, nothing kept."""

    code = "second_factor_enrollment_code_wrong"
    message = lazy_gettext(
        "That code does not match. Check that the time on your phone is right, then type the"
        " 6-digit code your app shows now."
    )


class SecondFactorNotEnrolledError(DomainError):
    """The account has no confirmed authenticator app."""

    code = "second_factor_not_enrolled"
    message = lazy_gettext("This account has no authenticator app yet. Please set one up.")
    status = 409


class SecondFactorCodeWrongError(DomainError):
    """A wrong TOTP or recovery code: the same answer for both."""

    keeps_changes = True  # the failure is audited and counted first (idp/unit_of_work.py)

    code = "second_factor_code_wrong"
    message = lazy_gettext(
        "That code is not correct. Type the 6-digit code your authenticator app shows now, or"
        " one of your recovery codes."
    )
    status = 401


class SecondFactorCodeReusedError(SecondFactorCodeWrongError):
    """RFC 6238 5.2: a TOTP code of a time step already used (or an earlier one) is refused."""

    code = "second_factor_code_reused"
    message = lazy_gettext(
        "This code was already used. Wait until your authenticator app shows a new code, then"
        " type that one."
    )


class SecondFactorLockedError(DomainError):
    """Too many wrong codes for this account (lockout policy)."""

    code = "second_factor_locked"
    message = lazy_gettext("Too many attempts. Try again in %(minutes)s minutes.")
    status = 429


class SecondFactorResetNotAllowedError(DomainError):
    """Only another staff account may reset an authenticator (the desk checks the role)."""

    code = "second_factor_reset_not_allowed"
    message = lazy_gettext(
        "You cannot reset this authenticator app. Ask another district administrator."
    )
    status = 403


class SecondFactorResetReasonError(DomainError):
    """A reset needs a reason for the audit log."""

    code = "second_factor_reset_reason"
    message = lazy_gettext(
        "Give the reason for the reset in at most %(max_length)s characters, for example the"
        " help desk ticket number."
    )


class DeskAccountNotFoundError(DomainError):
    """No live account has this username, student ID or id (or it is cancelled or deleted)."""

    code = "desk_account_not_found"
    message = lazy_gettext(
        "No account was found. Check the username or student ID; a cancelled or deleted"
        " account cannot be changed."
    )
    status = 404


class DeskActionNotAllowedError(DomainError):
    """The staff member's role or schools do not allow this action for this person
    (staff.toml [actions]); the same answer whatever school the person is at."""

    code = "desk_action_not_allowed"
    message = lazy_gettext(
        "Your staff role does not allow this for this person, or the person is not at your"
        " school. Ask a school or district administrator."
    )
    status = 403


class DeskReasonRequiredError(DomainError):
    """The action needs a reason for the audit trail, on one line and not too long."""

    code = "desk_reason_required"
    message = lazy_gettext(
        "Give the reason in at most %(max_length)s characters, for example how you checked the"
        " person's identity."
    )


class NoActivationKeyError(DomainError):
    """The guardian holds no activation key that could still register."""

    code = "no_activation_key"
    message = lazy_gettext(
        "This guardian has no activation key that can still be used: nothing to revoke."
    )
    status = 409


class AccountNotDisabledError(DomainError):
    """Only an account the lifecycle turned off is re-enabled at the desk."""

    code = "account_not_disabled"
    message = lazy_gettext("This account is not turned off: there is nothing to re-enable.")
    status = 409


class SignInNotLockedError(DomainError):
    """The account's sign-in is not locked now: nothing to clear."""

    code = "sign_in_not_locked"
    message = lazy_gettext("Sign-in to this account is not locked: there is nothing to clear.")
    status = 409


class NotWaitingForEmailError(DomainError):
    """Only a registration still waiting for its confirmation link gets it again."""

    code = "desk_not_waiting_for_email"
    message = lazy_gettext(
        "This account is not waiting for an email confirmation: there is no link to send again."
    )
    status = 409


class AccountNotReadyError(DomainError):
    """The "your account is ready" email goes only to an active account with an email."""

    code = "desk_account_not_ready"
    message = lazy_gettext(
        'The "your account is ready" email goes only to an active account with an email address.'
    )
    status = 409


class NoUsernameToRemindError(DomainError):
    """A username reminder needs a username and an email address (students have neither)."""

    code = "desk_no_username_to_remind"
    message = lazy_gettext(
        "This account has no username or no email address to send a reminder to. Students sign"
        " in with their student ID."
    )
    status = 409


class NoSecurityQuestionsError(DomainError):
    """Only a guardian who chose security questions has any to reset."""

    code = "desk_no_security_questions"
    message = lazy_gettext(
        "This account has no security questions to reset: only guardians choose them, and this"
        " one has not chosen any yet."
    )
    status = 409


class DistrictPasswordNotUsedError(DomainError):
    """Students sign in with their birth date here (accounts.toml students.login)."""

    code = "desk_district_password_not_used"
    message = lazy_gettext(
        "Students here sign in with their student ID and date of birth, not a district"
        " password: there is no password to set."
    )
    status = 409


class NotAStudentAccountError(DomainError):
    """Only a student's account has a district password."""

    code = "desk_not_a_student_account"
    message = lazy_gettext("Only a student's account has a district password.")
    status = 409


class StaffPasswordAlreadySetError(DomainError):
    """The link to choose a first password goes only to a staff account without one."""

    code = "staff_password_already_set"
    message = lazy_gettext(
        "This staff account already has a password: a link to choose one is sent only to a"
        " new staff account that has none yet."
    )
    status = 409


class StaffAccountCannotGetLinkError(DomainError):
    """The link to choose a password works only for an active staff account, and needs an
    email address to go to."""

    code = "staff_account_cannot_get_link"
    message = lazy_gettext(
        "This staff account is not active or has no email address, so no link to choose a"
        " password can be sent. Check the account's state and email address first."
    )
    status = 409
