"""What the IC bridge keeps in the browser's server-side session between its pages.

Kept apart from idp/web/upgrade.py so that the sign-in page can start an upgrade without
importing the upgrade pages (which import the sign-in page's helpers).
"""

from __future__ import annotations

from flask import session

from idp.accounts.models import Account
from idp.bridge.marker import BridgedSignIn
from idp.web.session_store import ServerSession

MARKER = "bridge_upgrade"  # BridgedSignIn.as_session(): the proof of the IC password
ACCOUNT_ID = "bridge_upgrade_account_id"  # the account waiting for its email link
EMAIL = "bridge_upgrade_email"
NEXT = "bridge_upgrade_next"  # where the sign-in was going (an app's sign-in request)
_KEYS = (MARKER, ACCOUNT_ID, EMAIL, NEXT)


def begin(upgrade: BridgedSignIn, next_url: str | None) -> None:
    """A right IC password: a fresh session id (no fixation) that carries the proof."""
    assert isinstance(session, ServerSession)  # noqa: S101 - installed by register_web
    lang = session.get("lang")
    session.clear()
    session.rotate()
    session[MARKER] = upgrade.as_session()
    if next_url:
        session[NEXT] = next_url
    if lang:
        session["lang"] = lang


def marker() -> BridgedSignIn | None:
    """The proof of this browser's IC password, if any."""
    return BridgedSignIn.from_session(session.get(MARKER))


def started(account: Account, upgrade: BridgedSignIn) -> None:
    """The account exists: the password hash is on it now, and leaves the session."""
    session[MARKER] = upgrade.without_password_hash().as_session()
    session[ACCOUNT_ID], session[EMAIL] = account.id, account.email
    session["lang"] = account.locale


def pending_account() -> tuple[int | None, str]:
    """The account waiting for its email link, and its address."""
    account_id = session.get(ACCOUNT_ID)
    return (account_id if isinstance(account_id, int) else None), str(session.get(EMAIL, ""))


def pending_next() -> str | None:
    """Where the sign-in is going once the upgrade is done (an app's sign-in request), if set."""
    next_url = session.get(NEXT)
    return next_url if isinstance(next_url, str) else None


def finish() -> str | None:
    """Forget the upgrade; return where the sign-in was going."""
    next_url = pending_next()
    for key in _KEYS:
        session.pop(key, None)
    return next_url
