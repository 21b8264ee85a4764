"""Sign-in and sign-out pages."""

from __future__ import annotations

from flask import Blueprint, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from idp.accounts.models import Account, AccountKind
from idp.bridge.errors import UpgradeRequiredError
from idp.credentials.errors import AccountDisabledError
from idp.errors import DomainError
from idp.extensions import limiter
from idp.oidc.authorize import ACR_PASSWORD
from idp.oidc.sessions import StartedSession
from idp.web import authorize, staff_pending, upgrade_session
from idp.web.deps import clock, logout, services
from idp.web.forms import SignInForm, SignOutForm
from idp.web.redirects import safe_next
from idp.web.session_store import ServerSession
from idp.web.sign_in_page import sign_in_page

bp = Blueprint("login", __name__)
# Session key: the disabled account that asked for a revalidation link from this browser.
REVALIDATION_KEY = "revalidation"


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("20/minute;200/hour", methods=["POST"])
def sign_in() -> Response | str | tuple[str, int]:
    """Show the form; on POST check the credentials and start a fresh session."""
    form = SignInForm()
    next_url = request.args.get("next")
    if request.method == "GET":
        return sign_in_page(form, next_url, request.args.get("login_hint"))
    if not form.validate_on_submit():
        return sign_in_page(form, next_url)
    try:
        account = services().sign_in.sign_in(form.username.data, form.password.data)
    except AccountDisabledError as error:
        _send_revalidation(error)
        return sign_in_page(form, next_url, error=error), error.status
    except UpgradeRequiredError as bridged:
        # IC credentials and no portal account yet: the first-login steps (web/upgrade.py).
        upgrade_session.begin(bridged.upgrade, next_url)
        return redirect(url_for("upgrade.account"))
    except DomainError as error:
        return sign_in_page(form, next_url, error=error), error.status
    return start_browser_session(account, amr=["pwd"], acr=ACR_PASSWORD)


def _send_revalidation(error: AccountDisabledError) -> None:
    """The right password on an account disabled for inactivity: email the link that turns it
    back on, and remember in this browser where the person was going (lifecycle)."""
    account = services().accounts.get(error.account_id) if error.account_id else None
    if account is None:
        return
    services().lifecycle.request_revalidation(account)
    session[REVALIDATION_KEY] = {"account_id": account.id, "next": request.args.get("next")}


def start_browser_session(
    account: Account, amr: list[str], acr: str, next_url: str | None = None
) -> Response:
    """After any successful sign-in (username, student): a fresh session and an SSO session,
    then on to `next` (the authorization request that sent the person to sign in).

    A staff account's password alone starts nothing: the second factor comes first
    (web/staff_session.py), which calls back here with "otp" in `amr`.

    The sign-in, the SSO session, a code issued here and the browser session are committed
    together, by the request's unit of work after the session store (web/transaction.py)."""
    if account.kind == AccountKind.STAFF and "otp" not in amr:
        return staff_pending.begin(account, next_url or request.args.get("next"), clock().now())
    started = open_browser_session(account, amr, acr)
    target = safe_next(next_url or request.args.get("next"))
    # Back to the app at once when the authorization request behind the sign-in needs
    # nothing more than its code; else on to `target` (/authorize decides there).
    return authorize.resume_after_sign_in(target, account, started) or redirect(target)


def open_browser_session(account: Account, amr: list[str], acr: str) -> StartedSession:
    """A fresh browser session (new id: no session fixation) signed in to `account`, with its
    SSO session; the language chosen before is kept."""
    assert isinstance(session, ServerSession)  # noqa: S101 - installed by register_web
    lang = session.get("lang")
    session.clear()
    session.rotate()  # a new session id after sign-in: no session fixation
    started = services().sso.start(account.id, amr=amr, acr=acr)
    session["account_id"] = account.id
    session["sid"] = started.sid
    if lang:
        session["lang"] = lang
    return started


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    """End this browser session."""
    SignOutForm().validate_on_submit()  # CSRFProtect already refused a forged post
    if g.get("sso") is not None:
        logout().end_session(g.sso)  # every app this sign-in served is told (back-channel)
    session.clear()
    return redirect(url_for("login.sign_in"))
