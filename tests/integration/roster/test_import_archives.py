"""Damaged archives and over-long input: one clean error naming the file, nothing changed.

Never a traceback: the CLI exits 1 with the report, as for any other refused import.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from idp.clock import FrozenClock
from idp.extensions import db
from idp.roster.cli import roster
from idp.roster.oneroster import ImportReport, RosterImporter
from idp.roster.oneroster.source import ReadLimits
from tests.integration.roster.conftest import ImportRun, import_as_the_command_does, snapshot
from tests.roster_exports import district_11

pytestmark = pytest.mark.usefixtures("english")

# APPNOTE.TXT 4.3.7 and 4.3.12: offsets in a local file header and a central directory header.
LOCAL_NAME_OFFSET = 30
CENTRAL_FLAGS_OFFSET = 8


def _export_zip(tmp_path: Path, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    folder = district_11().write(tmp_path / "export")
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", compression) as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, file.name)
    return path


def _users_data(path: Path) -> tuple[bytearray, int]:
    """The archive's bytes and where the packed bytes of users.csv begin."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        header = archive.getinfo("users.csv").header_offset
    name_length, extra_length = struct.unpack_from("<HH", data, header + 26)
    return data, header + LOCAL_NAME_OFFSET + name_length + extra_length


def _damaged_deflate(tmp_path: Path) -> Path:
    path = _export_zip(tmp_path)
    data, start = _users_data(path)
    for at in range(start, start + 20):
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _bad_crc(tmp_path: Path) -> Path:
    path = _export_zip(tmp_path, zipfile.ZIP_STORED)
    data, start = _users_data(path)
    data[start + 200] ^= 0x01  # one bit of a name in users.csv
    path.write_bytes(bytes(data))
    return path


def _encrypted(tmp_path: Path) -> Path:
    path = _export_zip(tmp_path)
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")
    while not data[entry + 46 :].startswith(b"users.csv"):
        entry = data.index(b"PK\x01\x02", entry + 4)
    struct.pack_into("<H", data, entry + CENTRAL_FLAGS_OFFSET, 0x1)
    path.write_bytes(bytes(data))
    return path


def _bzip2(tmp_path: Path) -> Path:
    return _export_zip(tmp_path, zipfile.ZIP_BZIP2)


def _not_a_zip(tmp_path: Path) -> Path:
    return district_11().write(tmp_path / "export") / "users.csv"


def _cut_short(tmp_path: Path) -> Path:
    path = _export_zip(tmp_path)
    path.write_bytes(path.read_bytes()[:-30])
    return path


@pytest.mark.parametrize(
    ("damage", "line"),
    [
        (
            _damaged_deflate,
            "export.zip: users.csv cannot be unpacked: the ZIP archive is damaged (Error -3 while",
        ),
        (
            _bad_crc,
            "export.zip: users.csv cannot be unpacked: the ZIP archive is damaged (Bad CRC-32 for"
            " file 'users.csv'). Download or export it again.",
        ),
        (
            _encrypted,
            "export.zip: users.csv is encrypted in the ZIP archive. Export the files again"
            " without a password.",
        ),
        (
            _bzip2,
            "export.zip: manifest.csv is packed with ZIP compression method 12, which the IdP does"
            " not unpack. Make the ZIP archive with the usual Deflate method, or import the"
            " unpacked folder.",
        ),
        (
            _not_a_zip,
            "users.csv: This is neither a folder nor a ZIP archive that can be opened (File is"
            " not a zip file). Give the export's folder or its .zip file; if this is the .zip,"
            " download or export it again.",
        ),
        (
            _cut_short,
            "export.zip: This is neither a folder nor a ZIP archive that can be opened (File is"
            " not a zip file). Give the export's folder or its .zip file; if this is the .zip,"
            " download or export it again.",
        ),
    ],
    ids=["damaged deflate data", "bad CRC", "encrypted", "bzip2", "not a zip", "cut short"],
)
def test_unreadable_archive_is_one_error_naming_the_file_and_changes_nothing(
    run_import: ImportRun, tmp_path: Path, damage: Callable[[Path], Path], line: str
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    before = snapshot()
    path = damage(tmp_path / "damaged")

    report = run_import(path)

    assert not report.is_applied
    assert len(report.error_lines()) == 1
    assert report.error_lines()[0].startswith(line)
    assert snapshot() == before


def test_cli_refuses_a_damaged_archive_with_exit_1_and_no_traceback(
    app: Flask, tmp_path: Path
) -> None:
    path = _damaged_deflate(tmp_path)

    result = app.test_cli_runner().invoke(roster, ["import", str(path)])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines()[-1] == (
        "Import refused: 1 error. Nothing was changed; correct the files and run it again."
    )
    assert snapshot()["persons"] == []


@pytest.fixture
def import_within(app: Flask, clock: FrozenClock) -> Callable[[Path, ReadLimits], ImportReport]:
    """Import with the shipped policy and the given read caps."""

    def run(path: Path, limits: ReadLimits) -> ImportReport:
        policy = app.extensions["idp.policies"].rollout.roster
        importer = RosterImporter(cast(Session, db.session), clock, policy, limits)
        return import_as_the_command_does(importer, path)

    return run


@pytest.mark.parametrize(
    ("limits", "line"),
    [
        (
            ReadLimits(max_member_bytes=400),
            "export.zip: users.csv unpacks to more than 400 bytes, the most the IdP unpacks from"
            " one file of a ZIP archive. Check that this is a OneRoster export; a larger file"
            " can be imported from the unpacked folder.",
        ),
        (
            ReadLimits(max_archive_bytes=1000),
            "export.zip: The files of this ZIP archive unpack to more than 1,000 bytes in all,"
            " the most the IdP unpacks from one archive. Check that this is a OneRoster export;"
            " larger files can be imported from the unpacked folder.",
        ),
    ],
    ids=["member", "archive"],
)
def test_zip_unpacking_past_a_size_cap_is_refused_and_changes_nothing(
    import_within: Callable[[Path, ReadLimits], ImportReport],
    run_import: ImportRun,
    tmp_path: Path,
    limits: ReadLimits,
    line: str,
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    before = snapshot()

    report = import_within(_export_zip(tmp_path), limits)

    assert report.error_lines() == [line]
    assert snapshot() == before


def test_line_past_the_line_cap_refuses_the_import_and_changes_nothing(
    import_within: Callable[[Path, ReadLimits], ImportReport],
    run_import: ImportRun,
    tmp_path: Path,
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    before = snapshot()
    export = district_11()
    export.row("users", "u-ben")["password"] = "x" * 500  # a column the IdP does not read

    report = import_within(export.write(tmp_path / "second"), ReadLimits(max_line_bytes=400))

    assert report.error_lines() == [
        "users.csv:3: The line is longer than 400 bytes, far longer than any OneRoster line;"
        " the file was read no further. Check that this is the CSV file of a OneRoster export."
    ]
    assert snapshot() == before
