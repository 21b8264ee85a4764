"""Recovery errors: links that no longer work, wrong answers, locked recovery."""

from __future__ import annotations

from flask_babel import lazy_gettext

from idp.errors import DomainError


class ResetLinkInvalidError(DomainError):
    """Altered, already used, or made before the password last changed."""

    code = "reset_link_invalid"
    message = lazy_gettext(
        "This link does not work any more: it was already used, or your password changed since."
        " Ask for a new link with Forgot password."
    )
    status = 404


class ResetLinkExpiredError(DomainError):
    """A genuine link past its lifetime."""

    code = "reset_link_expired"
    message = lazy_gettext(
        "This link has expired: it works for %(minutes)s minutes. Ask for a new link with Forgot"
        " password."
    )
    status = 410


class AnswersWrongError(DomainError):
    """Not enough answers matched (which ones is not said)."""

    keeps_changes = True  # recorded first (idp/unit_of_work.py)

    code = "answers_wrong"
    message = lazy_gettext(
        "Some answers are not correct. Check them and try again. After too many attempts, password"
        " recovery is locked for a while."
    )
    status = 401


class RecoveryLockedError(DomainError):
    """Too many wrong answers for this account."""

    code = "recovery_locked"
    message = lazy_gettext(
        "Too many wrong answers. Try again in %(minutes)s minutes, or contact your school."
    )
    status = 429


class SetPasswordLinkInvalidError(DomainError):
    """Altered, or the password was chosen with it already."""

    code = "set_password_link_invalid"
    message = lazy_gettext(
        "This link does not work any more: a password was already chosen with it. Sign in with"
        " your username and password, or ask district IT for a new link."
    )
    status = 404


class SetPasswordLinkExpiredError(DomainError):
    """A genuine link past its lifetime."""

    code = "set_password_link_expired"
    message = lazy_gettext(
        "This link has expired: it works for %(hours)s hours. Ask district IT to send you a new"
        " one."
    )
    status = 410
