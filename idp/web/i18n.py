"""Locale choice: account preference, then ?lang= (kept in the session), then the browser."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import g, has_request_context, request, session
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
        "language_urls": _language_urls(),
    }


def _language_urls() -> dict[str, str]:
    """The page's address once per language: its query kept (a sign-in page's `next` must
    survive the switch) and `lang` set. A page shown at an address that cannot be loaded again
    as is (the sign-in form answering /authorize, perhaps a POST) names another one to switch
    on in `g.language_base`. Outside a request (an email, a printed letter): none."""
    if not has_request_context():
        return {}
    base = urlsplit(g.get("language_base") or request.script_root + request.full_path)
    kept = urlencode(
        [(k, v) for k, v in parse_qsl(base.query, keep_blank_values=True) if k != "lang"]
    )
    prefix = f"{base.path}?{kept}&lang=" if kept else f"{base.path}?lang="
    return {code: prefix + code for code in LANGUAGES}
