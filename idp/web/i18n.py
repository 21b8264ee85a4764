"""Locale choice: account preference, then ?lang= (kept in the session), then the browser."""

from __future__ import annotations

from flask import g, request, session
from flask_babel import get_locale

LANGUAGES: dict[str, str] = {
    "en": "English",
    "es": "Español",
    "vi": "Tiếng Việt",
    "ar": "العربية",
    "so": "Soomaali",
}
RIGHT_TO_LEFT = frozenset({"ar"})


def remember_requested_language() -> None:
    """Keep a `?lang=` choice for the rest of the visit."""
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang


def select_locale() -> str:
    """flask-babel's locale selector."""
    account = g.get("account")
    if account is not None and account.locale in LANGUAGES:
        return str(account.locale)
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def template_context() -> dict[str, object]:
    """Language facts every template needs (lang and dir attributes, the switcher)."""
    locale = str(get_locale() or "en")
    return {
        "current_locale": locale,
        "text_direction": "rtl" if locale in RIGHT_TO_LEFT else "ltr",
        "languages": LANGUAGES,
    }
