"""Account recovery pages: forgot username (forgot password follows with issue 5)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale

from idp.errors import DomainError
from idp.extensions import limiter
from idp.web.deps import services, settings
from idp.web.forms import ForgotUsernameForm

bp = Blueprint("recovery", __name__)


@bp.route("/forgot-username", methods=["GET", "POST"])
@limiter.limit("5/minute;20/hour", methods=["POST"])
def forgot_username() -> str | tuple[str, int]:
    """Email → the username is emailed there. The page is the same whether or not an account
    uses the address (the lookup happens when the message is sent, not here)."""
    form = ForgotUsernameForm()
    if not form.validate_on_submit():
        return render_template("recovery/forgot_username.html", form=form, error=None)
    try:
        services().registration.request_username_reminder(
            form.email.data, str(get_locale() or "en")
        )
    except DomainError as error:
        page = render_template("recovery/forgot_username.html", form=form, error=error)
        return page, error.status
    return render_template("recovery/username_sent.html", sender=settings().smtp.sender)
