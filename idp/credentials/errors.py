"""Credential errors. Sign-in failures never say whether the name exists."""

from __future__ import annotations

from flask_babel import lazy_gettext

from idp.errors import DomainError


class InvalidCredentialsError(DomainError):
    """Wrong name or wrong password: the same answer for both."""

    keeps_changes = True  # recorded first (idp/unit_of_work.py)

    code = "invalid_credentials"
    message = lazy_gettext(
        "The username or password is not correct. Check them and try again, or use Forgot"
        " username or Forgot password."
    )
    status = 401


class SignInLockedError(DomainError):
    """Too many failures for this sign-in name (known or not)."""

    code = "sign_in_locked"
    message = lazy_gettext("Too many attempts. Try again in %(minutes)s minutes.")
    status = 429


class AccountNotActiveError(DomainError):
    """The password was right, but the account cannot sign in in its current state."""

    keeps_changes = True  # recorded first (idp/unit_of_work.py)

    code = "account_not_active"
    message = lazy_gettext(
        "This account cannot sign in right now. Please contact your school for help."
    )
    status = 403


class AccountPendingEmailError(AccountNotActiveError):
    """Registration is waiting for the email link."""

    code = "account_pending_email"
    message = lazy_gettext(
        "Please confirm your email address first: open the link we sent you by email."
    )


class AccountProvisioningError(AccountNotActiveError):
    """The account is being created."""

    code = "account_provisioning"
    message = lazy_gettext(
        "Your account is being created. We will email you when it is ready, within"
        " %(minutes)s minutes."
    )


class AccountDisabledError(AccountNotActiveError):
    """Disabled after inactivity; the owner turns it back on by confirming their email."""

    code = "account_disabled"
    message = lazy_gettext(
        "This account was turned off because it was not used for a long time. We sent a link"
        " to your email address: open it to turn your account back on. The link works for"
        " %(hours)s hours."
    )

    def __init__(self, account_id: int | None = None, **params: object) -> None:
        super().__init__(**params)
        self.account_id = account_id


class PasswordTooShortError(DomainError):
    """passwords.min_length (NIST SP 800-63B: length, not composition)."""

    code = "password_too_short"
    message = lazy_gettext(
        "Your password needs at least %(min)s characters. A few words with spaces are easy to"
        " remember and hard to guess."
    )


class PasswordTooLongError(DomainError):
    """passwords.max_length."""

    code = "password_too_long"
    message = lazy_gettext("Your password can have at most %(max)s characters.")


class PasswordHasControlCharacterError(DomainError):
    """Only printable characters and spaces (tabs and line breaks cannot be typed back)."""

    code = "password_control_character"
    message = lazy_gettext(
        "Your password can use any letters, digits, symbols and spaces, but not tabs or line"
        " breaks."
    )


class PasswordContainsUsernameError(DomainError):
    """NIST SP 800-63B 3.1.1.2: no context-specific words such as the username."""

    code = "password_contains_username"
    message = lazy_gettext("Your password must not contain your username.")


class QuestionsNotChosenError(DomainError):
    """Exactly `count` different questions from the catalogue."""

    code = "questions_not_chosen"
    message = lazy_gettext("Please choose %(count)s different questions and answer each one.")


class AnswerTooShortError(DomainError):
    """Answers of at least 3 characters (after normalisation)."""

    code = "answer_too_short"
    message = lazy_gettext("Each answer needs at least %(min)s characters.")


class AnswersRepeatedError(DomainError):
    """Two questions with the same answer protect no better than one."""

    code = "answers_repeated"
    message = lazy_gettext("Please give a different answer to each question.")


class AnswerContainsSecretError(DomainError):
    """An answer must not be, or contain, the username or the password."""

    code = "answer_contains_secret"
    message = lazy_gettext("An answer must not contain your username or your password.")


class CurrentPasswordWrongError(DomainError):
    """Re-entering the password before a sensitive change."""

    keeps_changes = True  # recorded first (idp/unit_of_work.py)

    code = "current_password_wrong"
    message = lazy_gettext("Your current password is not correct. Please type it again.")
    status = 401


class PasswordCommonError(DomainError):
    """NIST SP 800-63B 5.1.1.2: refuse values from breach corpuses and common-password lists."""

    code = "password_common"
    message = lazy_gettext(
        "This password is one of the most common passwords, which are the first ones attackers"
        " try. Please choose another one, for example a few unrelated words."
    )


class InvalidStudentCredentialsError(DomainError):
    """Student sign-in: wrong student ID or wrong date of birth, the same answer for both."""

    keeps_changes = True  # recorded first (idp/unit_of_work.py)

    code = "invalid_student_credentials"
    message = lazy_gettext(
        "The student ID or date of birth is not correct. Check them and try again, or ask your"
        " teacher or school office for help."
    )
    status = 401


class InvalidStudentPasswordError(InvalidStudentCredentialsError):
    """Student sign-in with a district password (students.login = "district_password")."""

    code = "invalid_student_password"
    message = lazy_gettext(
        "The student ID or password is not correct. Check them and try again, or ask your"
        " teacher or school office for help."
    )


class StudentSchoolNotOpenError(DomainError):
    """Right credentials, but no enrolment in a school whose portal is open (rollout.toml)."""

    keeps_changes = True  # recorded first (idp/unit_of_work.py)

    code = "student_school_not_open"
    message = lazy_gettext("Your school does not use the portal yet.")
    status = 403


class StudentAccountDisabledError(AccountDisabledError):
    """A student account disabled after inactivity: students have no email to revalidate."""

    code = "student_account_disabled"
    message = lazy_gettext(
        "This account was disabled because it was not used for a long time. Ask your school to"
        " re-enable your account."
    )


class StudentNotFoundError(DomainError):
    """Staff tools only (CLI, staff console): no active student has this student ID."""

    code = "student_not_found"
    message = lazy_gettext("No active student in the roster has the student ID %(student_id)s.")
    status = 404
