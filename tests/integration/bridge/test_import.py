"""`idp bridge import FILE`: legacy IC hashes loaded all or nothing, every bad line named."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.audit.models import AuditEvent
from idp.bridge.errors import LegacyFileError, LegacyFileUnreadableError
from idp.bridge.models import LegacyCredential
from idp.cli import main
from idp.clock import FrozenClock
from idp.extensions import db
from idp.roster.models import Person
from idp.services import Services
from tests.builders import make_person
from tests.conftest import START
from tests.legacy import IC_PASSWORD, legacy_hash

HEADER = "ic_username,person_id,legacy_hash"


def _write(tmp_path: Path, *lines: str, name: str = "ic.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows() -> list[tuple[str, str, str]]:
    query = select(LegacyCredential).order_by(LegacyCredential.ic_username)
    return [(r.ic_username, r.scheme, r.verifier) for r in db.session.scalars(query)]


@pytest.fixture
def parents(app: Flask) -> list[Person]:
    """Three guardians and a student in the roster."""
    people = [make_person("guardian", sis_person_id=f"G-{n}") for n in (1, 2, 3)]
    make_person("student", sis_person_id="S-1")
    db.session.commit()
    return people


def test_good_file_imports_every_line_with_its_scheme(
    services: Services, parents: list[Person], tmp_path: Path
) -> None:
    hashes = {scheme: legacy_hash(scheme) for scheme in ("bcrypt", "pbkdf2_sha1", "salted_sha256")}
    path = tmp_path / "ic.csv"
    path.write_text(  # Excel's "CSV UTF-8": a BOM, CRLF line ends, a blank line
        "\ufeffIC_Username,Person_ID,Legacy_Hash\r\n"
        f"anna.parent,G-1,{hashes['bcrypt']}\r\n\r\n"
        f"BOB2,G-2,{hashes['pbkdf2_sha1']}\r\n"
        f" carl.c , G-3 ,{hashes['salted_sha256']}\r\n",
        encoding="utf-8",
    )

    report = services.legacy_credentials.import_file(path)

    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert _rows() == [
        ("BOB2", "pbkdf2_sha1", hashes["pbkdf2_sha1"]),
        ("anna.parent", "bcrypt", hashes["bcrypt"]),
        ("carl.c", "salted_sha256", hashes["salted_sha256"]),
    ]
    event = db.session.execute(select(AuditEvent)).scalar_one()
    assert (event.event, event.data) == (
        "bridge:credential:imported",
        {"created": 3, "updated": 0, "unchanged": 0},
    )


def test_every_bad_line_is_reported_with_its_number_and_nothing_is_imported(
    services: Services, parents: list[Person], tmp_path: Path
) -> None:
    good = legacy_hash("pbkdf2_sha256")
    path = _write(
        tmp_path,
        HEADER,
        f"fine.user,G-1,{good}",  # 2: good, but the file fails as a whole
        f"too,many,values,{good}",  # 3
        f",G-2,{good}",  # 4
        f"with space,G-2,{good}",  # 5
        f"FINE.USER,G-2,{good}",  # 6: already on line 2
        f"nobody,G-404,{good}",  # 7
        f"student,S-1,{good}",  # 8: not a guardian
        "plain,G-2,hunter2",  # 9
        "cost,G-2,pbkdf2_sha256$0$c2FsdA==$" + "A" * 43 + "=",  # 10
        "parts,G-2,salted_sha256$c2FsdA==",  # 11
        "long,G-2,salted_sha256$" + "QUFB" * 60 + "$" + "A" * 43 + "=",  # 12: over 255
    )

    with pytest.raises(LegacyFileError) as caught:
        services.legacy_credentials.import_file(path)

    assert [(line, error.code) for line, error in caught.value.line_problems] == [
        (3, "legacy_column_count"),
        (4, "legacy_username_invalid"),
        (5, "legacy_username_invalid"),
        (6, "legacy_username_repeated"),
        (7, "legacy_person_unknown"),
        (8, "legacy_person_unknown"),
        (9, "legacy_hash_scheme"),
        (10, "legacy_hash_cost"),
        (11, "legacy_hash_parts"),
        (12, "legacy_hash_parts"),
    ]
    assert _rows() == []
    assert db.session.execute(select(AuditEvent)).first() is None


@pytest.mark.parametrize(
    "first_line",
    ["username,person_id,legacy_hash", "ic_username,person_id", "dora,G-2,$2b$04$no.header"],
)
def test_a_file_without_the_header_is_refused_at_line_1(
    services: Services, parents: list[Person], tmp_path: Path, first_line: str
) -> None:
    path = _write(tmp_path, first_line, f"anna.parent,G-1,{legacy_hash('bcrypt')}")

    with pytest.raises(LegacyFileError) as caught:
        services.legacy_credentials.import_file(path)

    assert [(line, error.code) for line, error in caught.value.line_problems] == [
        (1, "legacy_header")
    ]


def test_a_file_that_is_not_utf8_is_refused(
    services: Services, parents: list[Person], tmp_path: Path
) -> None:
    path = tmp_path / "ic.csv"
    path.write_bytes(f"{HEADER}\nJos\xe9,G-1,{legacy_hash('bcrypt')}\n".encode("latin-1"))

    with pytest.raises(LegacyFileUnreadableError):
        services.legacy_credentials.import_file(path)

    assert _rows() == []


def test_importing_a_newer_export_updates_waiting_hashes_and_keeps_migrated_ones(
    services: Services, parents: list[Person], tmp_path: Path, clock: FrozenClock
) -> None:
    first = {name: legacy_hash("bcrypt") for name in ("anna", "bob", "carl")}
    services.legacy_credentials.import_file(
        _write(tmp_path, HEADER, *(f"{n},G-{i},{h}" for i, (n, h) in enumerate(first.items(), 1)))
    )
    migrated = db.session.execute(
        select(LegacyCredential).where(LegacyCredential.ic_username == "carl")
    ).scalar_one()
    migrated.migrated_at = START
    db.session.commit()
    clock.advance(days=7)
    newer = legacy_hash("pbkdf2_sha256", "a new IC password")
    lines = (
        f"anna,G-1,{newer}",
        f"bob,G-2,{first['bob']}",
        f"carl,G-3,{newer}",
        f"dora,G-1,{newer}",
    )

    report = services.legacy_credentials.import_file(_write(tmp_path, HEADER, *lines))

    assert (report.created, report.updated, report.unchanged) == (1, 1, 2)
    assert _rows() == [
        ("anna", "pbkdf2_sha256", newer),
        ("bob", "bcrypt", first["bob"]),
        ("carl", "bcrypt", first["carl"]),
        ("dora", "pbkdf2_sha256", newer),
    ]


def test_an_ic_username_of_another_person_is_refused(
    services: Services, parents: list[Person], tmp_path: Path
) -> None:
    services.legacy_credentials.import_file(
        _write(tmp_path, HEADER, f"anna,G-1,{legacy_hash('bcrypt')}")
    )

    with pytest.raises(LegacyFileError) as caught:
        services.legacy_credentials.import_file(
            _write(tmp_path, HEADER, f"ANNA,G-2,{legacy_hash('bcrypt')}", name="next.csv")
        )

    assert [(line, error.code) for line, error in caught.value.line_problems] == [
        (2, "legacy_username_other_person")
    ]


def test_imported_hashes_sign_in_through_the_bridge(
    services: Services, parents: list[Person], tmp_path: Path
) -> None:
    from idp.bridge.errors import UpgradeRequiredError

    path = _write(tmp_path, HEADER, f"anna.parent,G-1,{legacy_hash('pbkdf2_sha256')}")
    services.legacy_credentials.import_file(path)

    with pytest.raises(UpgradeRequiredError):
        services.sign_in.sign_in("Anna.Parent", IC_PASSWORD)


def test_cli_prints_file_line_reason_for_each_bad_line_and_exits_1(
    app: Flask, parents: list[Person], tmp_path: Path
) -> None:
    path = _write(tmp_path, HEADER, f"anna,G-1,{legacy_hash('bcrypt')}", "bob,G-404,hunter2")

    result = app.test_cli_runner().invoke(main, ["bridge", "import", str(path)])

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:3: No guardian in the roster has the Person ID G-404.",
        "idp: Lines that cannot be imported: 1. Nothing was imported.",
    ]
    assert db.session.execute(select(func.count()).select_from(LegacyCredential)).scalar() == 0


def test_cli_import_reports_what_it_did(app: Flask, parents: list[Person], tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER, f"anna,G-1,{legacy_hash('bcrypt')}")

    result = app.test_cli_runner().invoke(main, ["bridge", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert result.output == (
        "imported 1 new, updated 0, unchanged 0 (same hash or already migrated)\n"
    )


def test_cli_help_documents_the_columns_and_every_hash_format(app: Flask) -> None:
    result = app.test_cli_runner().invoke(main, ["bridge", "import", "--help"])

    assert "    ic_username,person_id,legacy_hash" in result.output.splitlines()  # kept as is
    for text in (
        "$2b$<cost>$<53 characters>",
        "pbkdf2_sha256$<iterations>$<salt>$<hash>",
        "pbkdf2_sha1$<iterations>$<salt>$<hash>",
        "salted_sha256$<salt>$<hash>",
    ):
        assert text in result.output
