"""The sign-in form page, shown by /sign-in and by /authorize."""

from __future__ import annotations

from flask import g, render_template, request, url_for

from idp.errors import DomainError
from idp.web.forms import SignInForm


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
        "login/sign_in.html", form=form, error=error, action=action, next_url=next_url
    )
