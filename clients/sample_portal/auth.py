"""Signing in and out through the provider, and the provider's back-channel logout."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, redirect, request, session, url_for
from werkzeug.wrappers import Response

from clients.sample_portal.backchannel import LogoutTokenError
from clients.sample_portal.deps import SESSION_KEY, portal

bp = Blueprint("auth", __name__)
NO_STORE = {"Cache-Control": "no-store"}


@bp.route("/sign-in")
def sign_in() -> Response:
    """To the provider's authorization endpoint (code flow, PKCE S256)."""
    if g.signed_in is not None:
        return redirect(url_for("pages.my_kids"))
    return portal().provider.sign_in_redirect()


@bp.route("/callback")
def callback() -> Response:
    """The provider sends the browser back here: redeem the code, start the app's session."""
    record = portal().provider.finish_sign_in(request.args)
    portal().sessions.remove(session.get(SESSION_KEY))
    session.clear()  # a new session key for a new sign-in (no fixation)
    session[SESSION_KEY] = portal().sessions.add(record)
    return redirect(url_for("pages.my_kids"))


@bp.route("/sign-out")
def sign_out() -> Response:
    """End the app's session first, then sign out at the provider (RP-initiated logout)."""
    record = g.signed_in
    portal().sessions.remove(session.get(SESSION_KEY))
    session.clear()
    if record is None:
        return redirect(url_for("pages.home"))
    return portal().provider.sign_out_redirect(record.id_token)


@bp.route("/backchannel-logout", methods=["POST"])
def backchannel_logout() -> tuple[Response, int]:
    """OIDC Back-Channel Logout 1.0: a server-to-server POST from the provider (no cookie, no
    CSRF token). 200 once the sessions are ended; 400 and no change for a bad token."""
    try:
        notice = portal().provider.read_logout_token(request.form.get("logout_token", ""))
    except LogoutTokenError:
        return _answer({"error": "invalid_request"}, 400)
    if portal().sessions.is_replay(notice.jti):
        return _answer({"error": "invalid_request"}, 400)
    portal().sessions.end(notice.sid, notice.sub)
    return _answer({}, 200)


def _answer(body: dict[str, str], status: int) -> tuple[Response, int]:
    response = jsonify(body)
    response.headers.update(NO_STORE)
    return response, status
