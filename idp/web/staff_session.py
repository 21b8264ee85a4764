"""Staff sign-in's second step and the staff session's limits (issue 16.1).

A staff account's right password does not sign it in: it opens the second step, kept in the
browser's server-side session for a few minutes. An account without an authenticator app sets
one up there (a QR code drawn inline, the first code, then the recovery codes shown once); an
enrolled account types a code from the app or a recovery code. Only then does the sign-in
start, with amr ["pwd", "otp"] (RFC 8176).

The staff session is shorter than a family's: staff.toml [session] idle and absolute limits,
read with the injected clock on every request of a signed-in staff account; past either, the
sign-in ends everywhere (the SSO session and the apps it served, as the sign-out button does).
Staff are never asked for security questions (SecurityQuestionService.is_required: guardians
only).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from idp.accounts.models import Account, AccountKind
from idp.errors import DomainError
from idp.extensions import limiter
from idp.oidc.authorize import ACR_PASSWORD
from idp.web import staff_pending
from idp.web.deps import clock, logout, services
from idp.web.login import open_browser_session, start_browser_session
from idp.web.redirects import safe_next

bp = Blueprint("staff_sign_in", __name__)

STAFF_KEY = "staff_session"  # {"since", "seen"}: epoch seconds of the sign-in and last request
AMR = ["pwd", "otp"]  # RFC 8176: password and a one-time password


class CodeForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type information
    """A code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(message=_l("Please enter the code.")), Length(max=40)],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


def _pending_account() -> tuple[Account, str | None] | None:
    """The staff account whose password was right a moment ago in this browser, and where
    its sign-in goes; None when there is none, it waited too long or it is no longer active."""
    found = staff_pending.pending(clock().now())
    if found is None:
        return None
    account_id, next_url = found
    account = services().accounts.get(account_id)
    if account is None or account.kind != AccountKind.STAFF or not account.is_active:
        staff_pending.forget()
        return None
    return account, next_url


@bp.route("/sign-in/second-factor", methods=["GET", "POST"])
@limiter.limit("10/minute;60/hour", methods=["POST"])
def second_factor() -> Response | str | tuple[str, int]:
    """Type a code from the authenticator app (or a recovery code); an account without an
    app is sent to set one up."""
    pending = _pending_account()
    if pending is None:
        return redirect(url_for("login.sign_in"))
    account, next_url = pending
    second = services().second_factor
    if not second.is_enrolled(account):
        return redirect(url_for("staff_sign_in.set_up"))
    form = CodeForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("staff/second_factor.html", form=form)
    try:
        second.verify(account, form.code.data)
    except DomainError as error:
        return render_template("staff/second_factor.html", form=CodeForm(), error=error), (
            error.status
        )
    return _signed_in(account, next_url)


@bp.route("/sign-in/second-factor/set-up", methods=["GET", "POST"])
@limiter.limit("10/minute;60/hour", methods=["POST"])
def set_up() -> Response | str | tuple[str, int]:
    """First staff sign-in: scan the QR code (or type the key), confirm with the first code;
    the recovery codes are shown once and the sign-in starts."""
    pending = _pending_account()
    if pending is None:
        return redirect(url_for("login.sign_in"))
    account, next_url = pending
    second = services().second_factor
    if second.is_enrolled(account):
        return redirect(url_for("staff_sign_in.second_factor"))
    form = CodeForm()
    error: DomainError | None = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            codes = second.confirm_enrollment(account, form.code.data)
        except DomainError as refused:
            error = refused
        else:
            _start(account)
            return render_template(
                "staff/recovery_codes.html", codes=codes, next_url=_continue_to(next_url)
            )
    enrollment = second.pending_enrollment(account) or second.start_enrollment(account)
    page = render_template(
        "staff/set_up.html", form=CodeForm() if error else form, enrollment=enrollment, error=error
    )
    return (page, error.status) if error is not None else page


def _signed_in(account: Account, next_url: str | None) -> Response:
    """Both factors passed: the sign-in starts (and an app waiting for it gets its answer)."""
    target = _continue_to(next_url)
    response = start_browser_session(account, amr=AMR, acr=ACR_PASSWORD, next_url=target)
    _mark_started()
    return response


def _start(account: Account) -> None:
    """Start the sign-in without going anywhere yet (the recovery codes page is shown first)."""
    open_browser_session(account, amr=AMR, acr=ACR_PASSWORD)
    _mark_started()


def _mark_started() -> None:
    """The staff session's clock starts with the sign-in."""
    now = _epoch(clock().now())
    session[STAFF_KEY] = {"since": now, "seen": now}


def _continue_to(next_url: str | None) -> str:
    """Where the sign-in goes: the app's request that asked for it, else the staff desk."""
    return safe_next(next_url) if next_url else url_for("staff_console.index")


def enforce() -> None:
    """before_request: a signed-in staff account's session ends past staff.toml's idle or
    absolute limit (the clock is the app's); the request then goes on signed out."""
    account = g.get("account")
    if account is None or account.kind != AccountKind.STAFF:
        return
    now = clock().now()
    marks = session.get(STAFF_KEY)
    if _is_live(marks, now):
        assert isinstance(marks, dict)  # noqa: S101 - _is_live checked it
        if _epoch(now) - marks["seen"] >= 60:  # written at most once a minute
            session[STAFF_KEY] = {**marks, "seen": _epoch(now)}
        return
    if g.get("sso") is not None:
        logout().end_session(g.sso)  # the apps this sign-in served are told (back-channel)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[staff_pending.STAFF_SESSION_ENDED] = True
    g.account, g.sso = None, None


def _is_live(marks: Any, now: datetime) -> bool:
    if not isinstance(marks, dict):
        return False
    since, seen = marks.get("since"), marks.get("seen")
    if not isinstance(since, int) or not isinstance(seen, int):
        return False
    limits = services().policies.staff.session
    idle = timedelta(minutes=limits.idle_minutes).total_seconds()
    absolute = timedelta(hours=limits.absolute_hours).total_seconds()
    at = _epoch(now)
    return at - seen < idle and at - since < absolute


_epoch = staff_pending.epoch
