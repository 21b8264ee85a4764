"""What a staff sign-in keeps in the browser's server-side session between the password and
the second factor (issue 16.1).

Kept apart from idp/web/staff_session.py (the second step's pages) so that the sign-in can hand
over to the second step without importing those pages, which import the sign-in's helpers.
"""

from __future__ import annotations

from datetime import datetime

from flask import redirect, session, url_for
from werkzeug.wrappers import Response

from idp.accounts.models import Account
from idp.web.session_store import ServerSession

PENDING_KEY = "staff_second_factor"  # {"account_id", "next", "started"}: the password was right
PENDING_MINUTES = 10  # to type the code (or set the app up) after the password
# Set when a staff session ended by its limits: the sign-in page says why it asks again.
STAFF_SESSION_ENDED = "staff_session_ended"


def begin(account: Account, next_url: str | None, now: datetime) -> Response:
    """The staff member's password was right: a fresh session id that carries only the
    pending second step (no sign-in yet), and on to that step."""
    assert isinstance(session, ServerSession)  # noqa: S101 - installed by register_web
    lang = session.get("lang")
    session.clear()
    session.rotate()
    session[PENDING_KEY] = {"account_id": account.id, "next": next_url, "started": epoch(now)}
    if lang:
        session["lang"] = lang
    return redirect(url_for("staff_sign_in.second_factor"), code=303)


def pending(now: datetime) -> tuple[int, str | None] | None:
    """The account id whose password was right a moment ago in this browser, and where its
    sign-in goes; None when there is none or it waited longer than PENDING_MINUTES."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    started, account_id, next_url = data.get("started"), data.get("account_id"), data.get("next")
    if not isinstance(started, int) or not isinstance(account_id, int):
        return None
    if epoch(now) - started > PENDING_MINUTES * 60:
        forget()
        return None
    return account_id, next_url if isinstance(next_url, str) else None


def forget() -> None:
    """The second step is over (or abandoned)."""
    session.pop(PENDING_KEY, None)


def epoch(moment: datetime) -> int:
    """Whole seconds since 1970, as the session stores moments."""
    return int(moment.timestamp())
