"""A NUL character in a value refuses the import on both databases, with its cell named.

Found by the import's fuzz test: Python 3.11's csv module reads NUL, and PostgreSQL's COPY
then failed with a psycopg DataError traceback (SQLite stored the NUL).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.roster.conftest import ImportRun, snapshot
from tests.roster_exports import district_11

pytestmark = pytest.mark.usefixtures("english")


def test_nul_character_in_a_value_is_refused_at_its_cell_and_changes_nothing(
    run_import: ImportRun, tmp_path: Path
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    before = snapshot()
    export = district_11()
    export.row("users", "u-ben")["givenName"] = "B\x00en"

    report = run_import(export.write(tmp_path / "second"))

    assert report.error_lines() == [
        "users.csv:3:givenName: The value contains a NUL character (byte 0x00), which CSV text"
        " never holds. Check that the file was exported as UTF-8 text."
    ]
    assert snapshot() == before
