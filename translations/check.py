"""Keep translations/messages.pot current and every catalog complete (STYLE.md section 5).

python translations/check.py           # CI: fail on a stale .pot or an incomplete catalog
python translations/check.py --update  # make translations: re-extract, update the catalogs
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
LANGUAGES = ("es", "vi", "ar", "so")
KEYWORDS = ("_l", "lazy_gettext", "lazy_ngettext:1,2", "lazy_pgettext:1c,2")
STALE_POT = "messages.pot is out of date: run make translations"
# No fuzzy matching: a guessed translation of a changed text must not reach parents.
# POT-Creation-Date is ignored because messages.pot has no header (reproducible output).
UPDATE_OPTIONS = ("--no-fuzzy-matching", "--ignore-obsolete", "--ignore-pot-creation-date")
# A Python named placeholder: %(name)s, %(count)d, %(ratio).1f ...
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")


def pybabel(*args: str) -> None:
    """Run one pybabel command in this process, quietly."""
    cli = CommandLineInterface()
    cli.run(["pybabel", "--quiet", *args])  # type: ignore[no-untyped-call]  # babel CLI: no hints


def extract(output: Path) -> None:
    """Extract idp/ and clients/ (the sample portal) into `output`; no locations, dates or
    ordering noise, so it is reproducible."""
    keywords = [f"--keyword={keyword}" for keyword in KEYWORDS]
    options = ["--add-comments=TRANSLATORS:", "--no-location", "--sort-output", "--omit-header"]
    mapping = f"--mapping-file={ROOT / 'babel.cfg'}"
    pybabel(
        "extract",
        mapping,
        *keywords,
        *options,
        f"--output-file={output}",
        str(ROOT / "idp"),
        str(ROOT / "clients"),
    )


def is_pot_current(pot: Path = POT) -> bool:
    """Whether a fresh extraction gives exactly the committed messages.pot."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "messages.pot"
        extract(fresh)
        return pot.is_file() and fresh.read_bytes() == pot.read_bytes()


def update() -> None:
    """Re-extract messages.pot, then merge it into each catalog (new ids get an empty msgstr)."""
    extract(POT)
    for lang in LANGUAGES:
        locations = (f"--input-file={POT}", f"--output-dir={TRANSLATIONS}", f"--locale={lang}")
        pybabel("update", *locations, *UPDATE_OPTIONS, "--init-missing")


def catalog_path(lang: str) -> Path:
    """Where one language's catalog lives."""
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def load_catalog(path: Path) -> Catalog:
    """Read a .po or .pot file."""
    with path.open("rb") as po_file:
        return read_po(po_file)


def message_problems(message: Message, translation: Message) -> list[str]:
    """What is wrong with one translation of `message` (empty when it is fine)."""
    string = translation.string
    forms = [string] if isinstance(string, str) else string or [""]
    if translation.fuzzy or not all(forms):
        return ["is marked fuzzy" if translation.fuzzy else "has an empty msgstr"]
    source = message.id if isinstance(message.id, str) else message.id[-1]
    expected = set(PLACEHOLDER.findall(source))
    # A plural form may spell its number out ("one", "two"), so it may drop %(num)s.
    optional = {"num"} if isinstance(message.id, tuple) else set()
    problems = []
    for form in forms:
        found = set(PLACEHOLDER.findall(form))
        if not expected - optional <= found <= expected:
            problems.append(f"placeholders {sorted(found)} != {sorted(expected)}")
        elif expected and "%" in PLACEHOLDER.sub("", form).replace("%%", ""):
            problems.append("has a lone % (write %% for a percent sign)")
    return problems


def header_problems(lang: str, catalog: Catalog) -> list[str]:
    """Problems of a catalog's header: language, plural forms, fuzzy flag."""
    plural_forms = Catalog(locale=lang).plural_forms
    checks = {
        f"header Language is {catalog.locale}, expected {lang}": str(catalog.locale) != lang,
        f"header Plural-Forms is not {plural_forms}": catalog.plural_forms != plural_forms,
        "header is marked fuzzy (pybabel compile would skip the catalog)": catalog.fuzzy,
    }
    return [problem for problem, failed in checks.items() if failed]


def catalog_problems(lang: str, catalog: Catalog, template: Catalog) -> list[str]:
    """Every problem of one language's catalog against the template, one line each."""
    problems = [f"{lang}: {problem}" for problem in header_problems(lang, catalog)]
    for message in (entry for entry in template if entry.id):  # skip the header entry
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        translation = catalog.get(message.id, message.context)
        if translation is None:
            problems.append(f"{lang}: missing msgid {msgid!r}")
            continue
        for problem in message_problems(message, translation):
            problems.append(f"{lang}: msgid {msgid!r} {problem}")
    stale = [m.id for m in catalog if m.id and template.get(m.id, m.context) is None]
    problems += [f"{lang}: msgid {msgid!r} is not in messages.pot (run update)" for msgid in stale]
    return problems


def all_problems() -> list[str]:
    """Problems of the .pot and of every catalog."""
    problems = [] if is_pot_current() else [STALE_POT]
    if not POT.is_file():  # nothing to compare the catalogs with
        return problems
    template = load_catalog(POT)
    for lang in LANGUAGES:
        path = catalog_path(lang)
        if not path.is_file():
            problems.append(f"{lang}: {path.relative_to(ROOT)} is missing")
            continue
        problems.extend(catalog_problems(lang, load_catalog(path), template))
    return problems


def main(argv: list[str] | None = None) -> int:
    """Check (or update, then list what is left to translate); exit status 1 on problems."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--update", action="store_true", help="re-extract and update catalogs")
    is_update = parser.parse_args(argv).update
    if is_update:
        update()
    problems = all_problems()
    print(*problems, sep="\n", file=sys.stderr, end="\n" if problems else "")
    return 1 if problems and not is_update else 0


if __name__ == "__main__":
    sys.exit(main())
