"""The IC bridge's first-login pages: email (and a username if needed), the emailed link.

The sign-in page sends a browser here after a right Infinite Campus password
(idp/web/upgrade_session.py keeps the proof); the security questions come after the link, at
the first page the signed-in guardian opens (idp/web/security_questions.py's gate).
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import get_locale
from werkzeug.wrappers import Response

from idp.bridge.errors import UpgradeExpiredError, UpgradeLinkExpiredError, UpgradeLinkUsedError
from idp.bridge.service import UpgradeDetails, UpgradePage
from idp.errors import DomainError
from idp.extensions import limiter
from idp.oidc.authorize import ACR_PASSWORD
from idp.web import upgrade_session
from idp.web.deps import services
from idp.web.login import start_browser_session
from idp.web.register import NO_REFERRER, check_email_page
from idp.web.sign_in_page import app_name
from idp.web.upgrade_forms import UpgradeForm

bp = Blueprint("upgrade", __name__)

Page = Response | str | tuple[str, int]


@bp.route("/upgrade", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def account() -> Page:
    """Email and language, and a username when the IC one cannot be kept (with the reason)."""
    marker = upgrade_session.marker()
    try:
        page = services().bridge.upgrade_page(marker)
    except DomainError as error:
        return _stopped(error)
    form = UpgradeForm()
    if request.method == "GET":
        form.locale.data = str(get_locale() or "en")
    if not form.validate_on_submit():
        return _account_page(form, page, None)
    details = UpgradeDetails(form.email.data, form.username.data or "", form.locale.data)
    try:
        created = services().bridge.start_upgrade(marker, details)
    except UpgradeExpiredError as error:
        return _stopped(error)
    except DomainError as error:
        return _account_page(form, page, error)
    assert marker is not None  # noqa: S101 - start_upgrade refuses a missing proof
    upgrade_session.started(created, marker)
    return redirect(url_for("upgrade.check_email"))


def _account_page(form: UpgradeForm, page: UpgradePage, error: DomainError | None) -> Page:
    html = render_template(
        "upgrade/account.html",
        form=form,
        page=page,
        error=error,
        usernames=services().policies.accounts.usernames,
        app_name=app_name(upgrade_session.pending_next()),
    )
    return (html, error.status) if error is not None else html


def _stopped(error: DomainError) -> tuple[str, int]:
    """No (fresh) IC proof, or a credential that cannot be upgraded: back to sign-in."""
    upgrade_session.finish()
    return render_template("upgrade/stopped.html", error=error), error.status


@bp.route("/upgrade/check-email", methods=["GET", "POST"])
@limiter.limit("5/minute;20/hour", methods=["POST"])
def check_email() -> Page:
    """ "Check your email", with a button for a new link."""
    account_id, email = upgrade_session.pending_account()
    if account_id is None:
        return redirect(url_for("login.sign_in"))
    # Registration's resend: the message gets the upgrade's link (verify_route).
    return check_email_page("upgrade/check_email.html", account_id, email)


@bp.route("/upgrade/verify-email", methods=["GET"])
@limiter.limit("30/minute")
def verify_email() -> Response | tuple[str, int, dict[str, str]]:
    """The emailed link: the account is ready. This browser, if it gave the IC password, is
    signed in (the security questions come next); any other is told to sign in."""
    token = request.args.get("token", "")[:512]
    try:
        done = services().bridge.complete_upgrade(token, upgrade_session.marker())
    except (UpgradeLinkExpiredError, UpgradeLinkUsedError) as error:
        return render_template("upgrade/stopped.html", error=error), error.status, NO_REFERRER
    next_url = upgrade_session.finish()
    if not done.is_signed_in:
        page = render_template("upgrade/ready.html", username=done.account.username)
        return page, 200, NO_REFERRER
    response = start_browser_session(done.account, amr=["pwd"], acr=ACR_PASSWORD, next_url=next_url)
    response.headers.update(NO_REFERRER)
    return response
