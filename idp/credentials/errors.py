"""Credential errors. Sign-in failures never say whether the name exists."""

from __future__ import annotations

from flask_babel import lazy_gettext

from idp.errors import DomainError


class InvalidCredentialsError(DomainError):
    """Wrong name or wrong password: the same answer for both."""

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
    """Disabled after inactivity."""

    code = "account_disabled"
    message = lazy_gettext(
        "This account was disabled because it was not used for a long time. Please contact"
        " your school to use it again."
    )


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
