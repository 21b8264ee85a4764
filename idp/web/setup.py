"""Flask wiring of the web layer: sessions, locale, blueprints, error pages, headers."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask, g, request, session
from flask_babel import Babel
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from idp.clock import Clock
from idp.config import Settings
from idp.extensions import csrf, db, limiter
from idp.web import (
    authorize,
    connected_apps,
    dev_mailbox,
    errors,
    health,
    home,
    i18n,
    login,
    logout,
    oidc_endpoints,
    password,
    preferences,
    recovery,
    register,
    revalidate,
    security_questions,
    staff_actions,
    staff_audit,
    staff_console,
    staff_people,
    staff_session,
    student_login,
    upgrade,
)
from idp.web.deps import oidc, services
from idp.web.session_store import DatabaseSessionInterface

_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action %s; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _content_security_policy(response: Response) -> str:
    """CSP 3 form-action also governs the redirects after a form is sent (Chromium enforces
    it), and a sign-in, consent or logout form ends at an app's registered redirect URI: so
    pages allow 'self' plus the registered clients' origins; other responses only 'self'."""
    targets = ["'self'"]
    # A redirect carries no form (and /authorize answers most requests with one).
    if response.mimetype == "text/html" and not 300 <= response.status_code < 400:
        try:
            targets += oidc().client_origins()
        except SQLAlchemyError:  # an error page after a database failure: 'self' only
            db.session.rollback()
    return _CSP % " ".join(targets)


def _load_request_context() -> None:
    g.request_id = secrets.token_hex(8)
    if request.blueprint == "oidc_endpoints":
        # Token, userinfo, JWKS...: client-authenticated APIs, no browser session to load.
        g.account, g.sso = None, None
        return
    i18n.remember_requested_language()
    account_id, sid = session.get("account_id"), session.get("sid")
    found = services().sso.find_live_with_account(sid) if sid else None
    sso, account = (found.sso, found.account) if found is not None else (None, None)
    if account_id is not None and (account is None or not account.is_active):
        # Access ended (cancelled, disabled...) or the SSO session ended: signed out.
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        account, sso = None, None
    g.account, g.sso = account, sso


def _security_headers(response: Response) -> Response:
    if "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = _content_security_policy(response)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Request-Id"] = g.get("request_id", "")
    return response


def register_web(app: Flask, settings: Settings, clock: Clock, babel: Babel) -> None:
    """Install sessions, locale selection, blueprints and error handlers on the app."""
    app.session_interface = DatabaseSessionInterface(
        clock,
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )
    babel.init_app(app, locale_selector=i18n.select_locale)
    app.before_request(_load_request_context)
    app.before_request(staff_session.enforce)  # staff.toml [session]: before anything else
    app.before_request(security_questions.gate)
    app.after_request(_security_headers)
    app.context_processor(i18n.template_context)
    blueprints = (
        login,
        home,
        health,
        authorize,
        oidc_endpoints,
        logout,
        connected_apps,
        register,
        recovery,
        preferences,
        security_questions,
        password,
        revalidate,
        student_login,
        upgrade,
        staff_session,
        staff_console,
        staff_people,
        staff_actions,
        staff_audit,
    )
    for module in blueprints:
        app.register_blueprint(module.bp)
    dev_mailbox.install(app, settings)  # development only: /dev/mailbox is a 404 elsewhere
    # Client-authenticated APIs, not browser forms. Relying parties may also POST to
    # /authorize (OIDC Core 3.1.2.1); its consent form checks CSRF itself.
    csrf.exempt(oidc_endpoints.bp)
    # Client secrets are long random values: no rate limit bookkeeping on the token APIs.
    limiter.exempt(oidc_endpoints.bp)
    csrf.exempt(authorize.authorize)
    csrf.exempt(logout.end_session)
    errors.register_error_handlers(app)
