"""A NUL character in a value is an error at its cell (Python 3.11's csv module reads it)."""

from __future__ import annotations

import io

from idp.roster.oneroster.report import ImportReport
from idp.roster.oneroster.spec import ORGS
from idp.roster.oneroster.table import FileContext, Table

ORGS_HEADER = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"


def test_nul_character_in_a_value_is_an_error_at_its_cell_and_never_returned() -> None:
    report = ImportReport()
    text = io.StringIO(ORGS_HEADER + "\norg-1,,,Lake\x00view,school,ES1,\n")
    table = Table(FileContext(ORGS, "1.1", "bulk", report), text)
    table.read_header()
    fetch = table.fetcher(("sourcedId", "name", "identifier"))

    values = [fetch(row) for row in table.rows()]

    assert values == [("org-1", "Lakeview", "ES1")]
    assert [(problem.location(), problem.code) for problem in report.errors] == [
        ("orgs.csv:2:name", "nul_character")
    ]


def test_nul_character_in_a_column_the_import_does_not_read_is_ignored() -> None:
    report = ImportReport()
    text = io.StringIO(ORGS_HEADER + "\norg-1,,,Lakeview,school,ES1,org-\x00d\n")
    table = Table(FileContext(ORGS, "1.1", "bulk", report), text)
    table.read_header()
    fetch = table.fetcher(("sourcedId", "name", "identifier"))

    values = [fetch(row) for row in table.rows()]

    assert values == [("org-1", "Lakeview", "ES1")]
    assert report.errors == []
