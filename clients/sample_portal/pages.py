"""The app's pages: home and My Kids."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from clients.sample_portal.deps import SIGNED_OUT_NOTICE, end_local_session, portal
from clients.sample_portal.kids import my_kids as my_kids_content
from clients.sample_portal.provider import SignedOutError

bp = Blueprint("pages", __name__)


@bp.route("/")
def home() -> str:
    """The app's start page: sign in, or go to My Kids. Also where sign-out comes back to."""
    is_sign_out_return = "state" in request.args and portal().provider.is_sign_out_return()
    return render_template(
        "pages/home.html",
        has_signed_out=is_sign_out_return,
        was_signed_out=session.pop(SIGNED_OUT_NOTICE, False),
    )


@bp.route("/my-kids")
def my_kids() -> Response | str:
    """The children this person may see, read from the provider's userinfo on every view."""
    record = g.signed_in
    if record is None:
        return redirect(url_for("pages.home"))
    try:
        claims = portal().provider.claims(record)
    except SignedOutError:
        # Revoked or invalid at the provider: this app's session ends too.
        end_local_session()
        return redirect(url_for("pages.home"))
    content = my_kids_content(claims, request.args.get("student"))
    return render_template(
        "pages/my_kids.html", kids=content, content_kind=portal().settings.content
    )
