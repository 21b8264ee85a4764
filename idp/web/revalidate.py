"""Turning an account disabled for inactivity back on, from the emailed link (lifecycle)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, session
from werkzeug.wrappers import Response

from idp.errors import DomainError
from idp.extensions import limiter
from idp.oidc.authorize import ACR_PASSWORD
from idp.web.deps import services
from idp.web.login import REVALIDATION_KEY, start_browser_session

bp = Blueprint("revalidate", __name__)


@bp.route("/revalidate")
@limiter.limit("20/minute")
def revalidate() -> Response | tuple[str, int] | str:
    """Follow the link: the account is active again. In the browser that signed in with the
    right password, the sign-in then completes and any waiting app request goes on; in any
    other browser the person is asked to sign in (an emailed link alone signs nobody in)."""
    try:
        account = services().lifecycle.revalidate(request.args.get("token", ""))
    except DomainError as error:
        return render_template("revalidate/failed.html", error=error), error.status
    pending = session.get(REVALIDATION_KEY) or {}
    if pending.get("account_id") == account.id:
        return start_browser_session(
            account, amr=["pwd"], acr=ACR_PASSWORD, next_url=pending.get("next")
        )
    return render_template("revalidate/done.html")


@bp.after_request
def no_referrer(response: Response) -> Response:
    """The link's token must not leak to other sites through the Referer header."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
