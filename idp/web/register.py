"""Guardian registration pages: key, account details, check your email, confirmation link."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.errors import DomainError
from idp.extensions import limiter
from idp.registration.errors import (
    LinkExpiredError,
    LinkInvalidError,
    LinkUsedError,
    RegistrationExpiredError,
)
from idp.registration.service import NewRegistration
from idp.web.deps import services, settings
from idp.web.forms import ActivationForm, EmptyForm, RegistrationForm, TokenForm

bp = Blueprint("register", __name__)

KEY_ID = "registration_key_id"  # set by step 1: this browser proved a usable key
PENDING_ID = "registration_account_id"  # set by step 2: the registration waiting for its email
PENDING_EMAIL = "registration_email"

_AVAILABLE = _l("This username is available.")

Page = Response | str | tuple[str, int]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10/minute;60/hour", methods=["POST"])
def start() -> Page:
    """Step 1: Person ID and activation key (wrong, used or expired: one message)."""
    form = ActivationForm()
    if not form.validate_on_submit():
        return render_template("register/start.html", form=form, error=None)
    try:
        key_id = services().registration.check_key(form.person_id.data, form.activation_key.data)
    except DomainError as error:
        return render_template("register/start.html", form=form, error=error), error.status
    session[KEY_ID] = key_id
    return redirect(url_for("register.account"))


@bp.route("/register/account", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def account() -> Page:
    """Step 2: username, password, email and language; creates the account on success."""
    key_id = session.get(KEY_ID)
    if key_id is None:
        return redirect(url_for("register.start"))
    form = RegistrationForm()
    if request.method == "GET":
        form.locale.data = str(get_locale() or "en")
    if not form.validate_on_submit():
        return _account_page(form, None)
    new = NewRegistration(
        key_id, form.username.data, form.password.data, form.email.data, form.locale.data
    )
    try:
        created = services().registration.register(new)
    except RegistrationExpiredError as error:
        session.pop(KEY_ID, None)
        return render_template("register/start.html", form=ActivationForm(), error=error), 400
    except DomainError as error:
        return _account_page(form, error)
    session.pop(KEY_ID, None)
    session[PENDING_ID], session[PENDING_EMAIL] = created.id, created.email
    session["lang"] = created.locale
    return redirect(url_for("register.check_email"))


def _account_page(form: RegistrationForm, error: DomainError | None) -> Page:
    policy = services().policies
    page = render_template(
        "register/account.html",
        form=form,
        error=error,
        usernames=policy.accounts.usernames,
        passwords=policy.credentials.passwords,
    )
    return (page, error.status) if error is not None else page


@bp.route("/register/username-available")
@limiter.limit("60/minute")
def username_available() -> tuple[dict[str, object], int]:
    """The live check of step 2; only for a browser that proved a key in step 1."""
    if session.get(KEY_ID) is None:
        return {"error": "registration_not_started"}, 403
    username = request.args.get("username", "")[:100]
    result = services().registration.check_username(username)
    message = result.render() if result is not None else str(_AVAILABLE)
    return {"available": result is None, "message": message}, 200


@bp.route("/register/check-email", methods=["GET", "POST"])
@limiter.limit("5/minute;20/hour", methods=["POST"])
def check_email() -> Page:
    """ "Check your email", with the sender to look for and a button for a new link."""
    account_id = session.get(PENDING_ID)
    if account_id is None:
        return redirect(url_for("register.start"))
    return check_email_page("register/check_email.html", account_id, session.get(PENDING_EMAIL, ""))


def check_email_page(template: str, account_id: int, email: str) -> Page:
    """ "Check your email" for an account waiting for its address to be confirmed; a POST
    sends a new link (registration's resend, whose message carries the account's own link).
    Shared by registration and the Infinite Campus upgrade."""
    form, error, is_resent = EmptyForm(), None, False
    if form.validate_on_submit():
        try:
            services().registration.resend_verification(account_id)
            is_resent = True
        except DomainError as failure:
            error = failure
    page = render_template(
        template,
        form=form,
        error=error,
        is_resent=is_resent,
        email=email,
        sender=settings().smtp.sender,
    )
    return (page, error.status) if error is not None else page


# The token travels in the query string, which access logs leave out (`%(U)s` in gunicorn's
# format, see the Makefile), and these pages send no Referer: the link never reaches a log.
NO_REFERRER = {"Referrer-Policy": "no-referrer"}


@bp.route("/verify-email", methods=["GET"])
@limiter.limit("30/minute")
def verify_email() -> tuple[str, int, dict[str, str]]:
    """The emailed link: confirms the address; the account is then created in the background."""
    token = request.args.get("token", "")[:512]
    try:
        services().registration.verify_email(token)
    except LinkExpiredError as error:
        page = render_template(
            "register/link_expired.html", form=EmptyForm(), error=error, token=token
        )
        return page, error.status, NO_REFERRER
    except LinkUsedError as error:
        return render_template("register/link_used.html", error=error), error.status, NO_REFERRER
    session.pop(PENDING_ID, None)
    minutes = services().policies.lifecycle.registration.provisioning_promise_minutes
    return render_template("register/verified.html", minutes=minutes), 200, NO_REFERRER


@bp.route("/verify-email/resend", methods=["POST"])
@limiter.limit("5/minute;20/hour")
def resend_expired() -> tuple[str, int, dict[str, str]]:
    """A new link for the registration an expired (but genuine) link belongs to."""
    form = TokenForm()
    error: DomainError | None = None
    try:
        if not form.validate_on_submit():
            raise LinkInvalidError
        services().registration.resend_for_link(form.token.data[:512])
    except DomainError as failure:
        error = failure
    page = render_template(
        "register/link_expired.html",
        form=EmptyForm(),
        error=error,
        is_resent=error is None,
        sender=settings().smtp.sender,
        token="",
    )
    return page, error.status if error is not None else 200, NO_REFERRER
