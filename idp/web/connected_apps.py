"""Preferences, Connected apps: see and withdraw what third-party apps were allowed."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from idp.web.authorize import SCOPE_DESCRIPTIONS
from idp.web.deps import current_account, services
from idp.web.forms import SignOutForm

bp = Blueprint("connected_apps", __name__)


@bp.route("/preferences/connected-apps", methods=["GET", "POST"])
def connected_apps() -> Response | str:
    """List consents; POST withdraws one app's consent and ends its tokens."""
    account = current_account()
    if account is None:
        return redirect(url_for("login.sign_in", next=request.path))
    form = SignOutForm()  # an empty form: CSRF only
    if request.method == "POST" and form.validate_on_submit():
        services().consent.withdraw(account.id, request.form.get("client_id", ""))
        return redirect(url_for("connected_apps.connected_apps"))
    apps = [
        (client_id, name, [SCOPE_DESCRIPTIONS.get(scope, scope) for scope in scopes.split()])
        for client_id, name, scopes in services().consent.connected_apps(account.id)
    ]
    return render_template("connected_apps/connected_apps.html", apps=apps, form=form)
