"""Email templates render in every language without a Flask app, escaped and one-line subjects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from idp.config import PROJECT_ROOT
from idp.notifications.rendering import TEMPLATES_DIR, MessageRenderer

LOCALES = ("en", "es", "vi", "ar", "so")
CONTEXTS: dict[str, dict[str, Any]] = {
    "verify_email": {
        "username": "maria.garcia7",
        "verify_url": "https://id.district.example/register/confirm?token=abc&step=2",
        "link_hours": 48,
    },
    "account_cancelled": {
        "username": "maria.garcia7",
        "register_url": "https://id.district.example/register",
    },
    "account_ready": {
        "username": "maria.garcia7",
        "sign_in_url": "https://id.district.example/sign-in",
    },
    "username_reminder": {
        "username": "maria.garcia7",
        "sign_in_url": "https://id.district.example/sign-in",
    },
    "password_reset": {
        "username": "maria.garcia7",
        "reset_url": "https://id.district.example/reset-password?token=abc",
        "link_minutes": 30,
    },
    "password_changed": {
        "username": "maria.garcia7",
        "sign_in_url": "https://id.district.example/sign-in",
    },
    "staff_set_password": {
        "username": "maria.garcia7",
        "set_password_url": "https://id.district.example/set-password?token=abc",
        "link_hours": 48,
    },
    "inactivity_disable_warning": {
        "username": "maria.garcia7",
        "sign_in_url": "https://id.district.example/sign-in",
        "on_date": "3 March 2027",
    },
    "inactivity_delete_warning": {
        "username": "maria.garcia7",
        "sign_in_url": "https://id.district.example/sign-in",
        "on_date": "3 March 2027",
    },
    "revalidate_email": {
        "username": "maria.garcia7",
        "revalidate_url": "https://id.district.example/revalidate?token=abc",
        "link_hours": 48,
    },
}


def _po_translation(lang: str, msgid: str) -> str:
    path = PROJECT_ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        message = read_po(po_file).get(msgid)
    assert message is not None, f"{lang}: {msgid!r} is not in the catalog"
    return str(message.string)


@pytest.fixture(scope="module")
def translations_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed catalogs compiled into a temporary folder (no `make` needed)."""
    folder = tmp_path_factory.mktemp("translations")
    for lang in LOCALES[1:]:
        source = PROJECT_ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po"
        target = folder / lang / "LC_MESSAGES" / "messages.mo"
        target.parent.mkdir(parents=True)
        with source.open("rb") as po_file, target.open("wb") as mo_file:
            write_mo(mo_file, read_po(po_file))
    return folder


@pytest.fixture(scope="module")
def renderer(translations_dir: Path) -> MessageRenderer:
    """The shipped templates with the committed catalogs."""
    return MessageRenderer(TEMPLATES_DIR, translations_dir)


def _context(template: str, display_name: str = "Maria") -> dict[str, Any]:
    return {"display_name": display_name, **CONTEXTS[template]}


def test_the_renderer_knows_the_shipped_emails(renderer: MessageRenderer) -> None:
    assert renderer.template_names() == (
        "account_cancelled",
        "account_ready",
        "inactivity_delete_warning",
        "inactivity_disable_warning",
        "password_changed",
        "password_reset",
        "revalidate_email",
        "staff_set_password",
        "username_reminder",
        "verify_email",
    )


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_every_email_renders_in_every_language(
    renderer: MessageRenderer, template: str, locale: str
) -> None:
    rendered = renderer.render(template, locale, _context(template))

    assert rendered.subject
    assert "\n" not in rendered.subject
    assert "maria.garcia7" in rendered.text
    assert "maria.garcia7" in rendered.html
    assert f'<html lang="{locale}" dir="{"rtl" if locale == "ar" else "ltr"}">' in rendered.html
    assert ("Do not reply to it." in rendered.text) is (locale == "en")  # translated footer


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en"])
@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_every_email_is_translated(renderer: MessageRenderer, template: str, locale: str) -> None:
    english = renderer.render(template, "en", _context(template))

    rendered = renderer.render(template, locale, _context(template))

    assert rendered.subject != english.subject
    assert rendered.text != english.text


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_arabic_email_is_right_to_left(renderer: MessageRenderer, template: str) -> None:
    rendered = renderer.render(template, "ar", _context(template))

    assert '<body dir="rtl"' in rendered.html


@pytest.mark.parametrize("locale", ["es", "vi", "ar", "so"])
def test_email_uses_the_recipients_catalog(renderer: MessageRenderer, locale: str) -> None:
    rendered = renderer.render("account_ready", locale, _context("account_ready"))

    assert _po_translation(locale, "Parent/Student Portal") in rendered.html


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_html_escapes_the_display_name(renderer: MessageRenderer, template: str) -> None:
    rendered = renderer.render(template, "en", _context(template, "<script>alert(1)</script>"))

    assert "<script>" not in rendered.html
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;," in rendered.html
    assert "Hello <script>alert(1)</script>," in rendered.text


def test_link_is_escaped_in_the_html_and_plain_in_the_text(renderer: MessageRenderer) -> None:
    rendered = renderer.render("verify_email", "en", _context("verify_email"))

    assert 'href="https://id.district.example/register/confirm?token=abc&amp;step=2"' in (
        rendered.html
    )
    assert "https://id.district.example/register/confirm?token=abc&step=2\n" in rendered.text


@pytest.mark.parametrize(("hours", "sentence"), [(1, "for 1 hour."), (48, "for 48 hours.")])
def test_link_lifetime_is_pluralised(renderer: MessageRenderer, hours: int, sentence: str) -> None:
    context = {**_context("verify_email"), "link_hours": hours}

    rendered = renderer.render("verify_email", "en", context)

    assert f"The link works {sentence}" in rendered.text


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_empty_display_name_greets_without_a_name(renderer: MessageRenderer, template: str) -> None:
    rendered = renderer.render(template, "en", _context(template, ""))

    assert rendered.text.startswith("Hello,\n")
    assert "Hello ," not in rendered.html


def test_unknown_locale_falls_back_to_english(renderer: MessageRenderer) -> None:
    rendered = renderer.render("username_reminder", "fr", _context("username_reminder"))

    assert '<html lang="en" dir="ltr">' in rendered.html
    assert rendered.subject == "Your Parent/Student Portal username"


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_missing_context_key_raises(renderer: MessageRenderer, template: str) -> None:
    context = {key: value for key, value in _context(template).items() if key != "username"}

    with pytest.raises(jinja2.UndefinedError, match="username"):
        renderer.render(template, "en", context)


def test_subject_is_always_one_line(tmp_path: Path, translations_dir: Path) -> None:
    folder = tmp_path / "two_lines"
    folder.mkdir()
    (folder / "subject.txt").write_text("First {{ name }}\nSecond\r\nThird\n", encoding="utf-8")
    (folder / "body.txt").write_text("text", encoding="utf-8")
    (folder / "body.html").write_text("<p>{{ subject }}</p>", encoding="utf-8")

    rendered = MessageRenderer(tmp_path, translations_dir).render(
        "two_lines", "en", {"name": "x\ny"}
    )

    assert rendered.subject == "First x y Second Third"
    assert rendered.html == "<p>First x y Second Third</p>"
