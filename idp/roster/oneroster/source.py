"""Where the CSV files come from: a folder or a ZIP (files at its top or in one folder).

Files are streamed, never read whole; the bytes read so far feed the progress display.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

BOM = b"\xef\xbb\xbf"
_READ_BUFFER_BYTES = 1 << 16


class ByteCounter:
    """Bytes read so far across the files of one import."""

    def __init__(self) -> None:
        self.done = 0


class Source(Protocol):
    """The files of one OneRoster export."""

    def names(self) -> frozenset[str]:
        """The CSV file names present."""
        ...

    def size(self, name: str) -> int:
        """The uncompressed size of one file in bytes."""
        ...

    def open(self, name: str) -> BinaryIO:
        """Open one file for binary reading."""
        ...


class FolderSource:
    """An export unpacked in a folder."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def names(self) -> frozenset[str]:
        """The CSV file names in the folder."""
        return frozenset(path.name for path in self._folder.glob("*.csv") if path.is_file())

    def size(self, name: str) -> int:
        """The file's size in bytes."""
        return (self._folder / name).stat().st_size

    def open(self, name: str) -> BinaryIO:
        """Open the file for binary reading."""
        return cast(BinaryIO, (self._folder / name).open("rb"))


class ZipSource:
    """An export as a ZIP, its files at the top or inside a single folder."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._archive = archive
        self._members = _csv_members(archive)

    def names(self) -> frozenset[str]:
        """The CSV file names in the archive."""
        return frozenset(self._members)

    def size(self, name: str) -> int:
        """The uncompressed size of the member."""
        return self._members[name].file_size

    def open(self, name: str) -> BinaryIO:
        """Open the member for binary reading (decompressed while read)."""
        return cast(BinaryIO, self._archive.open(self._members[name]))


def _csv_members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    members = [info for info in archive.infolist() if not info.is_dir()]
    members = [info for info in members if info.filename.lower().endswith(".csv")]
    top = {info.filename: info for info in members if "/" not in info.filename}
    if top:
        return top
    folders = {info.filename.split("/")[0] for info in members if info.filename.count("/") == 1}
    if len(folders) != 1:
        return {}
    return {
        info.filename.split("/", 1)[1]: info for info in members if info.filename.count("/") == 1
    }


@contextmanager
def open_source(path: Path) -> Iterator[Source]:
    """The export at `path`: a folder or a .zip file."""
    if path.is_dir():
        yield FolderSource(path)
        return
    with zipfile.ZipFile(path) as archive:
        yield ZipSource(archive)


class _CountingStream(io.RawIOBase):
    """A binary stream that adds the bytes it reads to a ByteCounter."""

    def __init__(self, raw: BinaryIO, counter: ByteCounter) -> None:
        super().__init__()
        self._raw = raw
        self._counter = counter

    def readable(self) -> bool:
        """Always readable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from the underlying stream and count the bytes."""
        data = self._raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self._counter.done += size
        return size

    def close(self) -> None:
        """Close the underlying stream too."""
        self._raw.close()
        super().close()


@contextmanager
def open_text(
    source: Source, name: str, counter: ByteCounter
) -> Iterator[tuple[io.TextIOWrapper, bool]]:
    """The file as UTF-8 text for the csv module, and whether it started with a BOM."""
    raw = io.BufferedReader(_CountingStream(source.open(name), counter), _READ_BUFFER_BYTES)
    has_bom = raw.peek(len(BOM))[: len(BOM)] == BOM
    # newline="" lets the csv module handle CRLF and line breaks inside quoted values.
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    try:
        yield text, has_bom
    finally:
        text.close()
