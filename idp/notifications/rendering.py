"""Email rendering: plain Jinja2 and Babel catalogs, so no Flask app context is needed.

Each email is a folder `templates/<name>/` with `subject.txt`, `body.txt` and `body.html`
(STYLE.md 5). The bodies extend `_layout.txt` / `_layout.html`, which greet the reader and
carry the footer. Only `.html` templates are autoescaped.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from babel.support import NullTranslations, Translations

from idp.accounts.models import LOCALES
from idp.config import PROJECT_ROOT

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TRANSLATIONS_DIR = PROJECT_ROOT / "translations"
DEFAULT_LOCALE = "en"
RIGHT_TO_LEFT = frozenset({"ar"})
# The same msgid as the site header in web/templates/base.html, so it is already translated.
PORTAL_NAME = "Parent/Student Portal"


@dataclass(frozen=True)
class RenderedMessage:
    """One email in one language: a one-line subject, a text body and an HTML body."""

    subject: str
    text: str
    html: str


def mail_locale(locale: str) -> str:
    """The locale an email is written in: the requested one if we have it, else English."""
    return locale if locale in LOCALES else DEFAULT_LOCALE


class MessageRenderer:
    """Renders `templates/<name>/` in a locale, with one Jinja environment per locale."""

    def __init__(
        self, templates_dir: Path = TEMPLATES_DIR, translations_dir: Path = TRANSLATIONS_DIR
    ) -> None:
        self._templates_dir = templates_dir
        self._translations_dir = translations_dir
        self._environments: dict[str, tuple[jinja2.Environment, NullTranslations]] = {}
        self._lock = threading.Lock()

    def template_names(self) -> tuple[str, ...]:
        """The emails this renderer knows: the folders holding a `subject.txt`, sorted."""
        folders = self._templates_dir.iterdir() if self._templates_dir.is_dir() else iter(())
        return tuple(sorted(path.name for path in folders if (path / "subject.txt").is_file()))

    def render(self, template: str, locale: str, context: Mapping[str, Any]) -> RenderedMessage:
        """Render the subject and both bodies; a missing context key raises UndefinedError."""
        locale = mail_locale(locale)
        environment, translations = self._environment(locale)
        values = {
            "portal_name": translations.gettext(PORTAL_NAME),
            **context,
            "lang": locale,
            "text_direction": "rtl" if locale in RIGHT_TO_LEFT else "ltr",
        }
        # A header is one line: a newline in it would end the header (or inject another).
        subject = environment.get_template(f"{template}/subject.txt").render(values)
        subject = " ".join(subject.split())
        values["subject"] = subject  # the HTML layout's <title>
        return RenderedMessage(
            subject=subject,
            text=environment.get_template(f"{template}/body.txt").render(values),
            html=environment.get_template(f"{template}/body.html").render(values),
        )

    def _environment(self, locale: str) -> tuple[jinja2.Environment, NullTranslations]:
        with self._lock:
            built = self._environments.get(locale)
            if built is None:
                built = self._build_environment(locale)
                self._environments[locale] = built
            return built

    def _build_environment(self, locale: str) -> tuple[jinja2.Environment, NullTranslations]:
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self._templates_dir),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html",), default_for_string=False, default=False
            ),
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        translations: NullTranslations = Translations.load(
            str(self._translations_dir), [locale], domain="messages"
        )
        # The i18n extension adds this method to the environment at run time.
        environment.install_gettext_translations(  # type: ignore[attr-defined]
            translations, newstyle=True
        )
        return environment, translations
