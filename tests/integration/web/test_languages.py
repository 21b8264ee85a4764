"""Page language: ?lang= (kept in the session), Accept-Language, English fallback, lang/dir."""

from __future__ import annotations

import html
import io
import re

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from idp.config import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "translations"
LANGUAGES = ("es", "vi", "ar", "so")


def _translation(lang: str, msgid: str) -> str:
    """The committed msgstr of `msgid` in `lang`, so the expected text lives only in the .po."""
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        message = read_po(po_file).get(msgid)
    assert message is not None, f"{lang}: {msgid!r} is not in the catalog"
    return str(message.string)


def _h1(page: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert match is not None, "no <h1> on the page"
    return html.unescape(match.group(1).strip())


def _html_tag(page: str) -> str:
    match = re.search(r"<html [^>]*>", page)
    assert match is not None, "no <html> tag on the page"
    return match.group(0)


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs() -> None:
    """Fail clearly when a .mo is missing or out of date (Flask-Babel reads only the .mo)."""
    for lang in LANGUAGES:
        po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        expected = io.BytesIO()
        with po.open("rb") as po_file:
            write_mo(expected, read_po(po_file))
        if not mo.is_file() or mo.read_bytes() != expected.getvalue():
            pytest.fail(f"{mo} is missing or stale: run .venv/bin/pybabel compile -d translations")


def test_lang_query_shows_the_sign_in_page_in_spanish(client: FlaskClient) -> None:
    response = client.get("/sign-in?lang=es")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _h1(page) == _translation("es", "Sign in")
    assert _html_tag(page) == '<html lang="es" dir="ltr">'


def test_arabic_page_is_right_to_left(client: FlaskClient) -> None:
    response = client.get("/sign-in?lang=ar")

    page = response.get_data(as_text=True)
    assert _html_tag(page) == '<html lang="ar" dir="rtl">'
    assert _h1(page) == _translation("ar", "Sign in")


def test_language_choice_is_kept_for_the_next_request(client: FlaskClient) -> None:
    client.get("/sign-in?lang=so")

    page = client.get("/sign-in").get_data(as_text=True)

    assert _html_tag(page) == '<html lang="so" dir="ltr">'
    assert _h1(page) == _translation("so", "Sign in")


def test_accept_language_alone_selects_vietnamese(client: FlaskClient) -> None:
    response = client.get("/sign-in", headers={"Accept-Language": "vi"})

    page = response.get_data(as_text=True)
    assert _html_tag(page) == '<html lang="vi" dir="ltr">'
    assert _h1(page) == _translation("vi", "Sign in")


def test_lang_query_wins_over_accept_language(client: FlaskClient) -> None:
    response = client.get("/sign-in?lang=ar", headers={"Accept-Language": "es"})

    page = response.get_data(as_text=True)
    assert _html_tag(page) == '<html lang="ar" dir="rtl">'


def test_unknown_lang_falls_back_to_english(client: FlaskClient) -> None:
    response = client.get("/sign-in?lang=xx")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _html_tag(page) == '<html lang="en" dir="ltr">'
    assert _h1(page) == "Sign in"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_sign_in_heading_is_the_catalog_translation(client: FlaskClient, lang: str) -> None:
    response = client.get(f"/sign-in?lang={lang}")

    heading = _h1(response.get_data(as_text=True))

    assert heading == _translation(lang, "Sign in")
    assert heading != "Sign in"


def _language_links(page: str) -> dict[str, str]:
    found = re.findall(r'<li><a href="([^"]*)" lang="([a-z]+)"', page)
    return {lang: html.unescape(href) for href, lang in found}


def test_language_links_keep_the_pages_query_so_a_sign_in_still_goes_on(
    client: FlaskClient,
) -> None:
    page = client.get("/sign-in?next=/preferences&lang=so").get_data(as_text=True)

    links = _language_links(page)
    assert sorted(links) == ["ar", "en", "es", "so", "vi"]
    assert links["es"] == "/sign-in?next=%2Fpreferences&lang=es"
    assert links["en"] == "/sign-in?next=%2Fpreferences&lang=en"


def test_language_links_of_a_page_without_a_query(client: FlaskClient) -> None:
    page = client.get("/register").get_data(as_text=True)

    assert _language_links(page)["vi"] == "/register?lang=vi"
