"""Account errors (stable codes, translated messages)."""

from __future__ import annotations

from typing import ClassVar

from flask_babel import lazy_gettext

from idp.errors import DomainError


class UsernameInvalidError(DomainError):
    """The username breaks the FAQ's rule."""

    code = "username_invalid"
    message = lazy_gettext(
        "A username has %(min)s to %(max)s characters, using only the letters A-Z and digits 0-9."
    )


class UsernameTakenError(DomainError):
    """Another account holds this username (compared without case)."""

    code = "username_taken"
    message = lazy_gettext("This username is already taken. Please choose another one.")
    status = 409


class EmailInvalidError(DomainError):
    """Not an email address."""

    code = "email_invalid"
    message = lazy_gettext("Please enter a valid email address, like name@example.com.")


class EmailInUseError(DomainError):
    """Another live account holds this email."""

    code = "email_in_use"
    message = lazy_gettext(
        "This email address is already used by another account. Each account needs its own"
        " email address."
    )
    status = 409


class PersonAlreadyHasAccountError(DomainError):
    """One live account per Person per kind."""

    code = "person_has_account"
    message = lazy_gettext(
        "This person already has an account. Use Forgot username to find it, or ask your school."
    )
    status = 409


class UsernameImmutableError(DomainError):
    """Usernames never change once set."""

    code = "username_immutable"
    message = lazy_gettext("A username cannot be changed.")
    status = 409


class EmailImmutableError(DomainError):
    """Emails never change in the portal once set."""

    code = "email_immutable"
    message = lazy_gettext(
        "Your email address cannot be changed in the portal. Please contact your school."
    )
    status = 409


class PreferenceError(DomainError):
    """A preference that cannot be saved; `field` names the part of the page it concerns."""

    field: ClassVar[str] = ""


class ChannelInvalidError(PreferenceError):
    """Not one of email, text or both."""

    code = "channel_invalid"
    field = "channel"
    message = lazy_gettext(
        "Please choose how the school contacts you: email, text message, or both."
    )


class TopicInvalidError(PreferenceError):
    """A topic the policy does not offer."""

    code = "topic_invalid"
    field = "topics"
    message = lazy_gettext("Please choose topics from the list.")


class LocaleInvalidError(PreferenceError):
    """A language the portal does not offer."""

    code = "locale_invalid"
    field = "locale"
    message = lazy_gettext("Please choose a language from the list.")


class PhoneMissingError(PreferenceError):
    """Text messages need a phone number on file at the school."""

    code = "phone_missing"
    field = "channel"
    message = lazy_gettext(
        "The school has no phone number for you. Ask the school to add one, or choose email."
    )
