"""Fuzzing the OneRoster reader: whatever the bytes, the outcome is rows or the roster's errors.

Random bytes, valid files with bytes flipped, inserted or cut, and damaged ZIP archives go
through the same reading path as an import (manifest, then each file: header, rows, values).
The reader may record problems in the report or raise SourceError (an archive it cannot
read); any other exception is a bug. Bounded for CI: a few hundred examples, no deadline, no
example database written into the working tree.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from idp.roster.oneroster.importer import READERS
from idp.roster.oneroster.manifest import read_manifest
from idp.roster.oneroster.records import ReadState
from idp.roster.oneroster.report import ImportReport
from idp.roster.oneroster.source import (
    ByteCounter,
    FolderSource,
    ReadLimits,
    Source,
    SourceError,
    open_source,
    open_text,
)
from idp.roster.oneroster.spec import READ_ORDER, USERS
from idp.roster.oneroster.table import FileContext, Table
from tests.unit.roster.export_strategies import (
    DAMAGED_DEFLATE_ZIP,
    NAMELESS_MEMBER_ZIP,
    NUL_IN_A_NAME,
    VALID_EXPORTS,
    damaged_export,
    damaged_zip,
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Small caps, so that the fuzzer reaches them too.
LIMITS = ReadLimits(max_line_bytes=600, max_member_bytes=4000, max_archive_bytes=12_000)


class FakeStager:
    """Counts the rows the readers stage (staging itself is the database's part)."""

    def __init__(self) -> None:
        self.rows = 0

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.rows += 1


def read_export(source: Source) -> ImportReport:
    """Read every file as an import does, staging into FakeStager; the report."""
    report, counter = ImportReport(), ByteCounter()
    manifest = read_manifest(source, report, counter)
    if manifest is None:
        return report
    # FakeStager stands in for the database-backed Stager (it only needs `add`).
    stager: Any = FakeStager()
    state = ReadState(stager, manifest.version, "identifier", is_orgs_complete=True)
    for spec in READ_ORDER:
        if not manifest.is_read(spec):
            continue
        extra = ("identifier",) if spec is USERS else ()
        context = FileContext(spec, manifest.version, manifest.mode(spec), report, extra)
        with open_text(source, spec.name, counter) as (text, _):
            table = Table(context, text)
            if table.read_header():
                read = READERS[spec.key](table, state)
                for row in table.rows():
                    read(row)
    return report


def _write(folder: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (folder / name).write_bytes(content)


@FUZZ
@given(files=damaged_export())
@example(files=NUL_IN_A_NAME)
def test_damaged_files_give_rows_or_reported_problems(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _write(Path(folder), files)

        report = read_export(FolderSource(Path(folder), LIMITS))

    assert report.error_count >= len(report.errors)


@FUZZ
@given(files=st.dictionaries(st.sampled_from(sorted(VALID_EXPORTS[0])), st.binary(max_size=300)))
def test_random_bytes_give_rows_or_reported_problems(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _write(Path(folder), files)

        report = read_export(FolderSource(Path(folder), LIMITS))

    assert report.error_count >= len(report.errors)


def _read_zip(path: Path) -> str:
    """'read' if the archive was read (problems and all), else the SourceError's code."""
    try:
        with open_source(path, LIMITS) as source:
            read_export(source)
    except SourceError as error:
        return error.code
    return "read"


@FUZZ
@given(archive=damaged_zip())
@example(archive=DAMAGED_DEFLATE_ZIP)
@example(archive=NAMELESS_MEMBER_ZIP)
def test_damaged_zip_gives_rows_reported_problems_or_a_source_error(archive: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.zip"
        path.write_bytes(archive)

        outcome = _read_zip(path)

    assert outcome in {
        "read",
        "bad_archive",
        "damaged_member",
        "encrypted_member",
        "compression_method",
        "member_too_large",
        "archive_too_large",
    }
