"""Translation catalogs: the committed files are current and complete, and the checker's rules."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from idp.web.i18n import LANGUAGES as SITE_LANGUAGES
from translations.check import (
    LANGUAGES,
    POT,
    catalog_path,
    catalog_problems,
    is_pot_current,
    load_catalog,
)

MSGID = "Too many attempts. Try again in %(minutes)s minutes."
SPANISH_HEADER = f"Language: es\\nPlural-Forms: {Catalog(locale='es').plural_forms}\\n"


def _po(header: str, entries: str) -> Catalog:
    """A catalog read from .po text, as the checker reads the committed files."""
    text = f'msgid ""\nmsgstr "{header}"\n\n{entries}'
    return read_po(io.BytesIO(text.encode()))


def _template(*msgids: str) -> Catalog:
    template = Catalog()
    for msgid in msgids:
        template.add(msgid)
    return template


def test_committed_pot_matches_a_fresh_extraction() -> None:
    assert is_pot_current()


def test_checked_languages_are_the_site_languages_except_english() -> None:
    assert set(LANGUAGES) == set(SITE_LANGUAGES) - {"en"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_committed_catalog_is_complete(lang: str) -> None:
    problems = catalog_problems(lang, load_catalog(catalog_path(lang)), load_catalog(POT))

    assert problems == []


def test_stale_pot_is_detected(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    pot.write_bytes(POT.read_bytes() + b'\nmsgid "A text nobody uses any more"\nmsgstr ""\n')

    assert not is_pot_current(pot)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (f'msgid "{MSGID}"\nmsgstr ""\n', "has an empty msgstr"),
        (
            f'#, fuzzy\nmsgid "{MSGID}"\nmsgstr "Vuelva en %(minutes)s minutos."\n',
            "is marked fuzzy",
        ),
        (
            f'msgid "{MSGID}"\nmsgstr "Vuelva en %(minutos)s minutos."\n',
            "placeholders ['minutos'] != ['minutes']",
        ),
        (
            f'msgid "{MSGID}"\nmsgstr "Vuelva a intentarlo más tarde."\n',
            "placeholders [] != ['minutes']",
        ),
        (
            f'msgid "{MSGID}"\nmsgstr "Al 100% en %(minutes)s minutos."\n',
            "has a lone % (write %% for a percent sign)",
        ),
    ],
)
def test_bad_translation_is_reported_with_language_and_msgid(entry: str, problem: str) -> None:
    catalog = _po(SPANISH_HEADER, entry)

    problems = catalog_problems("es", catalog, _template(MSGID))

    assert problems == [f"es: msgid {MSGID!r} {problem}"]


def test_missing_msgid_is_reported() -> None:
    catalog = _po(SPANISH_HEADER, "")

    problems = catalog_problems("es", catalog, _template("Sign in"))

    assert problems == ["es: missing msgid 'Sign in'"]


def test_arabic_header_needs_six_plural_forms() -> None:
    catalog = _po("Language: ar\\nPlural-Forms: nplurals=2; plural=(n != 1);\\n", "")

    problems = catalog_problems("ar", catalog, _template())

    assert len(problems) == 1
    assert problems[0].startswith("ar: header Plural-Forms is not nplurals=6;")


def test_header_language_must_match_the_folder() -> None:
    catalog = _po(SPANISH_HEADER, "")

    problems = catalog_problems("vi", catalog, _template())

    assert "vi: header Language is es, expected vi" in problems
