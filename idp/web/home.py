"""The landing page of a signed-in person."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from idp.accounts.models import AccountKind
from idp.web.deps import current_account
from idp.web.forms import SignOutForm

bp = Blueprint("home", __name__)


@bp.route("/")
def index() -> Response | str:
    """Who is signed in, or the way to sign in."""
    account = current_account()
    if account is None:
        return redirect(url_for("login.sign_in", next=request.full_path.rstrip("?")))
    if account.kind == AccountKind.STAFF:
        return redirect(url_for("staff_console.index"))  # the school's desk, not a family's page
    return render_template("home/index.html", account=account, sign_out_form=SignOutForm())
