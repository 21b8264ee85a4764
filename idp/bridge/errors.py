"""Bridge errors: the legacy Infinite Campus check, the upgrade, and the CSV import.

None of them carries a password or a hash. Those shown at sign-in after a right IC password
(already upgraded, no guardian found) may say more than "wrong username or password": only the
owner of the password can see them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import lazy_gettext

from idp.errors import DomainError

if TYPE_CHECKING:
    from idp.bridge.marker import BridgedSignIn


class BridgeUnavailableError(DomainError):
    """The district's verification URL did not answer (down, timeout, 5xx, nonsense).

    Not the user's fault: no failure is counted against the sign-in name."""

    code = "bridge_unavailable"
    message = lazy_gettext("The Infinite Campus check is not answering. Try again later.")
    status = 503


class UpgradeRequiredError(DomainError):
    """Right IC username and password, no portal account yet: the sign-in page hands the
    browser to the upgrade pages (never rendered as an error)."""

    keeps_changes = True  # recorded first (idp/unit_of_work.py)

    code = "bridge_upgrade_required"
    message = lazy_gettext(
        "Your Infinite Campus sign-in worked. Finish moving to your portal account."
    )
    status = 403  # not signed in yet (only shown if a caller forgot to send it on)

    def __init__(self, upgrade: BridgedSignIn) -> None:
        super().__init__()
        self.upgrade = upgrade


class AlreadyUpgradedError(DomainError):
    """The IC credential was already moved to a portal account (after a right password)."""

    code = "bridge_already_upgraded"
    message = lazy_gettext(
        "You already moved to your portal account. Sign in with your portal username"
        " %(username)s. If you forgot your password, use Forgot password."
    )
    status = 409


class LegacyAccountClosedError(DomainError):
    """The portal account made from this IC credential was cancelled or deleted."""

    code = "bridge_account_closed"
    message = lazy_gettext(
        "The portal account made from your Infinite Campus sign-in was closed. Ask your school"
        " for an activation key to register again."
    )
    status = 403


class BridgePersonUnknownError(DomainError):
    """The IC credential names no guardian of the roster: there is nobody to bind it to."""

    code = "bridge_person_unknown"
    message = lazy_gettext(
        "We could not match your Infinite Campus sign-in to a parent or guardian in the school"
        " records. Please contact your school."
    )
    status = 403


class UpgradeExpiredError(DomainError):
    """The proof of the IC password in this browser is missing or too old."""

    code = "bridge_upgrade_expired"
    message = lazy_gettext(
        "For your security, please sign in again with your Infinite Campus username and password."
    )
    status = 400


class PersonNotFoundError(DomainError):
    """Staff tools: no roster person has this Person ID."""

    code = "bridge_person_not_found"
    message = lazy_gettext("No person in the roster has the Person ID %(person_id)s.")
    status = 404


# The CSV import (`idp bridge import FILE`): one error per line, reported as `file:line: reason`.


class LegacyLineError(DomainError):
    """A line of the import file that cannot be imported."""


class LegacyHeaderError(LegacyLineError):
    """The first line must name the columns."""

    code = "legacy_header"
    message = lazy_gettext("The first line must be the column names %(columns)s.")


class LegacyColumnCountError(LegacyLineError):
    """Every line has the header's columns."""

    code = "legacy_column_count"
    message = lazy_gettext("Expected %(expected)s values separated by commas, found %(found)s.")


class LegacyUsernameInvalidError(LegacyLineError):
    """IC usernames: not empty, no spaces, at most the column's length."""

    code = "legacy_username_invalid"
    message = lazy_gettext("The IC username must have 1 to %(max)s characters and no spaces.")


class LegacyUsernameRepeatedError(LegacyLineError):
    """An IC username twice in one file (compared without case)."""

    code = "legacy_username_repeated"
    message = lazy_gettext(
        "The IC username %(ic_username)s is already on line %(line)s of this file."
    )


class LegacyUsernameOtherPersonError(LegacyLineError):
    """An IC username already imported for another person."""

    code = "legacy_username_other_person"
    message = lazy_gettext(
        "The IC username %(ic_username)s was already imported for another Person ID."
    )


class LegacyPersonUnknownError(LegacyLineError):
    """The Person ID names no guardian of the roster."""

    code = "legacy_person_unknown"
    message = lazy_gettext("No guardian in the roster has the Person ID %(person_id)s.")


class VerifierError(LegacyLineError):
    """A legacy hash that is not in one of the documented formats (never quoted back)."""

    code = "legacy_hash_invalid"
    message = lazy_gettext(
        "The legacy hash is not in a supported format (see `idp bridge import --help`)."
    )


class VerifierSchemeError(VerifierError):
    """The hash starts with no scheme the bridge knows."""

    code = "legacy_hash_scheme"
    message = lazy_gettext(
        "The legacy hash must start with $2a$, $2b$ or $2y$ (bcrypt), pbkdf2_sha256$,"
        " pbkdf2_sha1$ or salted_sha256$."
    )


class VerifierPartsError(VerifierError):
    """Right scheme, wrong parts (count, base64, lengths)."""

    code = "legacy_hash_parts"
    message = lazy_gettext(
        "The legacy hash does not have the parts a %(scheme)s hash has (see `idp bridge"
        " import --help`)."
    )


class VerifierCostError(VerifierError):
    """PBKDF2 iterations or bcrypt cost outside what the bridge accepts."""

    code = "legacy_hash_cost"
    message = lazy_gettext(
        "The %(scheme)s work factor must be a whole number from %(min)s to %(max)s."
    )


class LegacyFileError(DomainError):
    """The whole file was refused: nothing was imported."""

    code = "legacy_file_invalid"
    message = lazy_gettext("Lines that cannot be imported: %(count)s. Nothing was imported.")

    def __init__(self, problems: list[tuple[int, LegacyLineError]]) -> None:
        super().__init__(count=len(problems))
        self.line_problems = tuple(problems)


class LegacyFileUnreadableError(DomainError):
    """Not a UTF-8 text file."""

    code = "legacy_file_unreadable"
    message = lazy_gettext("The file is not UTF-8 text (save it as CSV UTF-8).")


class UpgradeLinkExpiredError(DomainError):
    """The upgrade's email link is past its lifetime: signing in with IC again sends a new one."""

    code = "bridge_link_expired"
    message = lazy_gettext(
        "This link has expired. Sign in again with your Infinite Campus username and password,"
        " and we will send you a new one."
    )
    status = 410


class UpgradeLinkUsedError(DomainError):
    """The upgrade's email was already confirmed."""

    code = "bridge_link_used"
    message = lazy_gettext(
        "This link was already used: your email address is confirmed and your portal account is"
        " ready. Sign in with your portal username and password."
    )
    status = 409


class UpgradeUsernameTakenError(DomainError):
    """The IC username was free when the upgrade started and taken before its link was used."""

    code = "bridge_username_taken"
    message = lazy_gettext(
        "Someone else took the username %(username)s in the meantime. Sign in again with your"
        " Infinite Campus username and password to choose another one."
    )
    status = 409
