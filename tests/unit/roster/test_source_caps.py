"""Caps on what an export makes the import read: line length, and bytes unpacked from a ZIP.

Each cap is checked while the bytes stream in, never after a whole line or file was read.
"""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest

from idp.roster.oneroster.report import ImportReport
from idp.roster.oneroster.source import (
    MIB,
    ByteCounter,
    FolderSource,
    ReadLimits,
    SourceError,
    ZipSource,
    open_text,
)
from idp.roster.oneroster.spec import ORGS
from idp.roster.oneroster.table import FileContext, Table

ORGS_HEADER = b"sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"
ORG_ROW = b"org-1,,,Lakeview,school,ES1,"
# Offset of the uncompressed size in a central directory header (APPNOTE.TXT 4.3.12).
CENTRAL_SIZE_OFFSET = 24


def _read_orgs(source: FolderSource | ZipSource) -> tuple[list[list[str]], ImportReport, int]:
    """Read orgs.csv as the import does: its rows, the report and the bytes read."""
    report, counter = ImportReport(), ByteCounter()
    with open_text(source, "orgs.csv", counter) as (text, _):
        table = Table(FileContext(ORGS, "1.1", "bulk", report), text)
        rows = list(table.rows()) if table.read_header() else []
    return rows, report, counter.done


def _errors(report: ImportReport) -> list[tuple[str, str, dict[str, object]]]:
    return [(problem.location(), problem.code, problem.params) for problem in report.errors]


def _folder(tmp_path: Path, content: bytes) -> Path:
    (tmp_path / "orgs.csv").write_bytes(content)
    return tmp_path


def test_line_longer_than_the_default_cap_is_refused_before_it_is_read_whole(
    tmp_path: Path,
) -> None:
    # 8 MiB in one line: read whole (the old way), the line alone took 16 MiB or more.
    folder = _folder(tmp_path, ORGS_HEADER + b"\n" + b"x" * (8 * MIB) + b"\n" + ORG_ROW + b"\n")
    tracemalloc.start()

    _, report, bytes_read = _read_orgs(FolderSource(folder))

    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert _errors(report) == [("orgs.csv:2", "line_too_long", {"limit": "1,048,576"})]
    assert bytes_read < MIB + 128 * 1024
    assert peak < 4 * MIB


def test_line_of_exactly_the_cap_is_read(tmp_path: Path) -> None:
    row = ORG_ROW + b"x" * (100 - len(ORG_ROW))
    folder = _folder(tmp_path, ORGS_HEADER + b"\n" + row + b"\n")

    rows, report, _ = _read_orgs(FolderSource(folder, ReadLimits(max_line_bytes=100)))

    assert report.errors == []
    assert rows == [["org-1", "", "", "Lakeview", "school", "ES1", "x" * 72]]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_many_short_lines_pass_a_small_cap_whatever_their_line_ends(
    tmp_path: Path, newline: bytes
) -> None:
    # Reads are never longer than the cap, so a CRLF may fall across two reads.
    header = ORGS_HEADER + newline
    folder = _folder(tmp_path, header + (ORG_ROW + newline) * 50)

    rows, report, _ = _read_orgs(FolderSource(folder, ReadLimits(max_line_bytes=len(header))))

    assert report.errors == []
    assert len(rows) == 50


def test_line_one_byte_over_a_small_cap_is_refused_at_its_line_number(tmp_path: Path) -> None:
    long_row = ORG_ROW + b"x" * (101 - len(ORG_ROW))
    content = ORGS_HEADER + b"\r\n" + (ORG_ROW + b"\r\n") * 3 + long_row + b"\r\n" + ORG_ROW
    folder = _folder(tmp_path, content)

    rows, report, _ = _read_orgs(FolderSource(folder, ReadLimits(max_line_bytes=100)))

    assert _errors(report) == [("orgs.csv:5", "line_too_long", {"limit": "100"})]
    assert len(rows) == 3


def test_header_longer_than_the_cap_is_refused_at_line_1(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ORGS_HEADER + b"," * 200 + b"\n" + ORG_ROW + b"\n")

    rows, report, _ = _read_orgs(FolderSource(folder, ReadLimits(max_line_bytes=100)))

    assert _errors(report) == [("orgs.csv:1", "line_too_long", {"limit": "100"})]
    assert rows == []


def _zip(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def _declare_size(path: Path, name: str, size: int) -> None:
    """Make the central directory claim `size` unpacked bytes for member `name`."""
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")  # the first central directory header
    while data[entry + 46 : entry + 46 + len(name)] != name.encode():
        entry = data.index(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", data, entry + CENTRAL_SIZE_OFFSET, size)
    path.write_bytes(bytes(data))


def test_member_declaring_more_than_the_default_cap_is_refused_before_unpacking(
    tmp_path: Path,
) -> None:
    path = _zip(tmp_path, {"orgs.csv": ORGS_HEADER + b"\n" + ORG_ROW + b"\n"})
    _declare_size(path, "orgs.csv", 3 << 30)  # 3 GiB: more than the 2 GiB default

    with zipfile.ZipFile(path) as archive, pytest.raises(SourceError) as refused:
        ZipSource(archive).open("orgs.csv")

    assert (refused.value.code, refused.value.params) == (
        "member_too_large",
        {"member": "orgs.csv", "limit": "2,147,483,648"},
    )


def test_members_together_past_the_archive_cap_are_refused(tmp_path: Path) -> None:
    csv = ORGS_HEADER + b"\n" + ORG_ROW * 20 + b"\n"
    path = _zip(tmp_path, {"orgs.csv": csv, "users.csv": csv})
    limits = ReadLimits(max_member_bytes=len(csv), max_archive_bytes=len(csv) * 2 - 1)

    with zipfile.ZipFile(path) as archive:
        source = ZipSource(archive, limits)
        source.open("orgs.csv").read()
        with pytest.raises(SourceError) as refused:
            source.open("users.csv")

    assert (refused.value.code, refused.value.params) == (
        "archive_too_large",
        {"limit": f"{len(csv) * 2 - 1:,}"},
    )


class EndlessMember(io.RawIOBase):
    """A ZIP member that never ends: the orgs header, then the same row forever."""

    def __init__(self) -> None:
        super().__init__()
        self.served = 0
        self._tape = bytearray(ORGS_HEADER + b"\n")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # Without the cap the import would read forever: fail the test instead.
        assert self.served < 100 * MIB, "read on past every cap"
        while len(self._tape) < len(buffer):
            self._tape += ORG_ROW + b"\n"
        size = len(buffer)
        buffer[:size] = self._tape[:size]
        del self._tape[:size]
        self.served += size
        return size


def test_member_unpacking_more_than_it_declares_is_stopped_while_streaming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _zip(tmp_path, {"orgs.csv": ORGS_HEADER + b"\n"})
    limits = ReadLimits(max_line_bytes=1000, max_member_bytes=10_000, max_archive_bytes=10_000)
    endless = EndlessMember()

    with zipfile.ZipFile(path) as archive:
        # zipfile stops at the declared size today; the cap must not depend on that.
        monkeypatch.setattr(archive, "open", lambda _info: endless)
        with pytest.raises(SourceError) as refused:
            _read_orgs(ZipSource(archive, limits))

    assert (refused.value.code, refused.value.params) == (
        "member_too_large",
        {"member": "orgs.csv", "limit": "10,000"},
    )
    assert endless.served <= 10_000 + 1000
