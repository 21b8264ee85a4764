"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) on Authlib's endpoint."""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, g, render_template, request, session

from idp.extensions import csrf
from idp.oidc.logout import initiating_client
from idp.web.deps import logout, oidc

bp = Blueprint("logout", __name__)


@bp.route("/end-session", methods=["GET", "POST"])
def end_session() -> Any:
    """Validate the request; confirm when the RP sent no id_token_hint; sign out; redirect."""
    server = oidc()
    try:
        end_request = server.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return render_template(
            "authorize/error.html", error=error.error, description=error.get_error_description()
        ), 400
    needs_confirmation = _needs_confirmation(end_request)
    if needs_confirmation and "confirm" not in request.form:
        client = end_request.client
        return render_template("logout/confirm.html", client=client, params=dict(request.values))
    if needs_confirmation:
        csrf.protect()  # the confirmation is a form of ours
    if g.get("sso") is not None:
        initiator = initiating_client(end_request.client, end_request.id_token_claims, g.sso)
        logout().end_session(g.sso, initiator)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    response = server.create_endpoint_response("end_session", end_request)
    return response or render_template("logout/signed_out.html")


def _needs_confirmation(end_request: Any) -> bool:
    """Ask before signing out unless the id_token_hint names the person signed in here.

    RP-Initiated Logout 6: a request without a valid hint may be a denial of service. A hint
    is not enough on its own: any ID token of ours (an attacker's own, an expired one) is
    valid, so a page could sign a victim out with it; it must also be this account's."""
    account = g.get("account")
    if account is None:
        return False  # nobody is signed in here: there is nothing to sign out
    claims = end_request.id_token_claims
    return claims is None or claims.get("sub") != account.sub
