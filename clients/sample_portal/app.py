"""The sample portal app factory: one relying party (Grades or Attendance) per call."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, g, request, session
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response

from clients.sample_portal import auth, errors, pages
from clients.sample_portal.deps import SESSION_KEY, Portal, end_local_session, portal
from clients.sample_portal.provider import ProviderClient
from clients.sample_portal.settings import PortalSettings

LANGUAGES = ("en", "es", "vi", "ar", "so")
RIGHT_TO_LEFT = frozenset({"ar"})
# Pages carry a child's details: not cached, not framed, and no URL (the callback's code)
# leaks to another site through Referer.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
}


def create_portal(settings: PortalSettings) -> Flask:
    """A sample portal app: home page, My Kids, sign-in and sign-out through the provider."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Apps on one host share cookies across ports: each app needs its own cookie name.
        SESSION_COOKIE_NAME=f"{settings.client_id}_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        BABEL_TRANSLATION_DIRECTORIES=str(settings.translations_dir),
        BABEL_DEFAULT_LOCALE="en",
    )
    Babel(app, locale_selector=select_locale)
    app.extensions["sample_portal"] = Portal(settings, ProviderClient(OAuth(app), settings))
    app.before_request(load_signed_in)
    app.after_request(add_security_headers)
    app.context_processor(template_context)
    app.register_blueprint(pages.bp)
    app.register_blueprint(auth.bp)
    errors.register(app)
    return app


def load_signed_in() -> None:
    """The browser's signed-in session, if it still exists (back-channel logout ends it)."""
    key = session.get(SESSION_KEY)
    g.signed_in = portal().sessions.get(key)
    if key and g.signed_in is None:
        end_local_session()


def select_locale() -> str:
    """The `locale` claim when signed in, else the browser's languages, else English."""
    record = g.get("signed_in")
    if record is not None and record.locale in LANGUAGES:
        return str(record.locale)
    return request.accept_languages.best_match(LANGUAGES) or "en"


def add_security_headers(response: Response) -> Response:
    """Headers every page gets."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def template_context() -> dict[str, Any]:
    """What every template needs: the app's title, language and direction, who is signed in."""
    locale = str(get_locale() or "en")
    return {
        "app_title": portal().settings.title,
        "current_locale": locale,
        "text_direction": "rtl" if locale in RIGHT_TO_LEFT else "ltr",
        "signed_in": g.get("signed_in"),
    }
