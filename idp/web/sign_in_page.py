"""The sign-in form page, shown by /sign-in and by /authorize."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask import g, render_template, request, session, url_for

from idp.errors import DomainError
from idp.web.deps import oidc, services
from idp.web.forms import SignInForm
from idp.web.staff_pending import STAFF_SESSION_ENDED

_CLIENT_ID_MAX_LENGTH = 100  # oidc_client.client_id: no longer id is registered


def sign_in_page(
    form: SignInForm | None,
    next_url: str | None,
    login_hint: str | None = None,
    error: DomainError | None = None,
) -> str:
    """The sign-in form, which posts to /sign-in and goes on to `next_url` afterwards.

    /sign-in shows it, and so does /authorize as its own answer to a browser that must sign
    in first (as other providers do: one round trip fewer than a redirect to /sign-in). Its
    language links then switch on /sign-in, which shows the same form for the same request.
    """
    form = form or SignInForm()
    if login_hint and not form.username.data:
        form.username.data = login_hint[:100]  # OIDC login_hint prefills the username
    action = url_for("login.sign_in", next=next_url or None)
    if request.endpoint != "login.sign_in":
        g.language_base = url_for("login.sign_in", next=next_url or None, login_hint=login_hint)
    return render_template(
        "login/sign_in.html",
        form=form,
        error=error,
        action=action,
        next_url=next_url,
        app_name=app_name(next_url),
        # A staff sign-in that ended by staff.toml [session] (web/staff_session.py): say why.
        is_staff_session_ended=bool(session.pop(STAFF_SESSION_ENDED, False)),
        staff_limits=services().policies.staff.session,
    )


def app_name(next_url: str | None) -> str | None:
    """The registered name (clients/*.toml `name`) of the app whose authorization request
    `next_url` is, to say which app the person signs in to; None for any other page.

    Without an authorization request nothing is looked up. The client comes from the
    authorization server's per-process cache, which /authorize has just filled."""
    if not next_url:
        return None
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or parts.path != url_for("authorize.authorize"):
        return None
    client_ids = parse_qs(parts.query).get("client_id", [])
    if len(client_ids) != 1 or len(client_ids[0]) > _CLIENT_ID_MAX_LENGTH:
        return None  # /authorize refuses a repeated or unknown client_id with its own answer
    client = oidc().query_client(client_ids[0])
    return None if client is None else str(client.name)
