"""Where the CSV files come from: a folder or a ZIP (files at its top or in one folder).

Files are streamed, never read whole; the bytes read so far feed the progress display. What an
export can make the import read is capped (ReadLimits), and checked while the bytes stream in:
a line longer than `max_line_bytes` stops its file before the line is held in memory, and a ZIP
stops at `max_member_bytes` unpacked from one file or `max_archive_bytes` from all the files
read. A damaged, encrypted or not-a-ZIP archive is a SourceError, never a traceback.
"""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol, cast

BOM = b"\xef\xbb\xbf"
_READ_BUFFER_BYTES = 1 << 16
MIB = 1 << 20
GIB = 1 << 30
# What zipfile raises on bytes that are not a sound archive: bad headers and CRCs (BadZipFile),
# damaged deflate data (zlib.error), cut-off data (EOFError), unsupported features
# (NotImplementedError), password protection (RuntimeError), impossible sizes and offsets
# (ValueError, which includes the UnicodeDecodeError of a bad UTF-8 file name), I/O (OSError).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OSError,
)
# Stored and Deflate are what export tools write. zipfile inflates Deflate in bounded steps;
# it would unpack a whole BZIP2 or LZMA block at once (a few KiB can hold gigabytes).
_UNPACKED_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_ENCRYPTED_FLAG = 0x1  # APPNOTE.TXT 4.4.4: general purpose bit 0


@dataclass(frozen=True)
class ReadLimits:
    """Caps on what one export may make the import read; constants (not policy): they protect
    the server, and no sound export comes near them."""

    # A OneRoster line is a few hundred bytes; one with hundreds of agents a few dozen KiB.
    max_line_bytes: int = MIB
    # A million students in eight classes each make an enrollments.csv of about 1.2 GB. A
    # folder has no size cap: what is already on disk is not a decompression bomb.
    max_member_bytes: int = 2 * GIB
    max_archive_bytes: int = 4 * GIB

    def __post_init__(self) -> None:
        # A cap of 0 would read every file as empty.
        if min(self.max_line_bytes, self.max_member_bytes, self.max_archive_bytes) < 1:
            raise ValueError("every read cap must be at least 1 byte")


DEFAULT_LIMITS = ReadLimits()


class SourceError(Exception):
    """The export cannot be read (on): the report's error code and its parameters."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class LineTooLongError(Exception):
    """A line of a file is longer than ReadLimits.max_line_bytes; the file is read no further."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class ByteCounter:
    """Bytes read so far across the files of one import."""

    def __init__(self) -> None:
        self.done = 0


class Source(Protocol):
    """The files of one OneRoster export."""

    limits: ReadLimits

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

    def __init__(self, folder: Path, limits: ReadLimits = DEFAULT_LIMITS) -> None:
        self._folder = folder
        self.limits = limits

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

    def __init__(self, archive: zipfile.ZipFile, limits: ReadLimits = DEFAULT_LIMITS) -> None:
        self._archive = archive
        self._members = _csv_members(archive)
        self.limits = limits
        # Unpacked sizes the members opened so far declare, and the bytes really unpacked.
        self.declared_bytes = 0
        self.unpacked_bytes = 0

    def names(self) -> frozenset[str]:
        """The CSV file names in the archive."""
        return frozenset(self._members)

    def size(self, name: str) -> int:
        """The uncompressed size of the member."""
        return self._members[name].file_size

    def open(self, name: str) -> BinaryIO:
        """Open the member for binary reading (decompressed while read, within the caps)."""
        info = self._members[name]
        if info.flag_bits & _ENCRYPTED_FLAG:
            raise SourceError("encrypted_member", member=name)
        if info.compress_type not in _UNPACKED_METHODS:
            raise SourceError("compression_method", member=name, method=info.compress_type)
        # The declared size refuses a bomb before a byte is unpacked; _MemberStream counts
        # what is really unpacked, so the caps do not depend on the archive telling the truth.
        self.declared_bytes += info.file_size
        self.check_size(name, info.file_size, self.declared_bytes)
        try:
            member = self._archive.open(info)
        except _ZIP_ERRORS as error:
            raise SourceError("damaged_member", member=name, reason=str(error)) from None
        return cast(BinaryIO, _MemberStream(member, name, self))

    def check_size(self, name: str, member_bytes: int, archive_bytes: int) -> None:
        """Raise SourceError if a member or the archive passes its cap (ReadLimits)."""
        limits = self.limits
        if member_bytes > limits.max_member_bytes:
            limit = f"{limits.max_member_bytes:,}"
            raise SourceError("member_too_large", member=name, limit=limit)
        if archive_bytes > limits.max_archive_bytes:
            raise SourceError("archive_too_large", limit=f"{limits.max_archive_bytes:,}")


class _MemberStream(io.RawIOBase):
    """One ZIP member as it is unpacked: sizes capped, zipfile's errors made SourceErrors."""

    def __init__(self, member: IO[bytes], name: str, source: ZipSource) -> None:
        super().__init__()
        self._member = member
        self._name = name
        self._source = source
        self._unpacked = 0

    def readable(self) -> bool:
        """Always readable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Unpack into `buffer`; checked against the caps before the bytes are handed on."""
        try:
            data = self._member.read(len(buffer))
        except _ZIP_ERRORS as error:
            raise SourceError("damaged_member", member=self._name, reason=str(error)) from None
        size = len(data)
        self._unpacked += size
        self._source.unpacked_bytes += size
        self._source.check_size(self._name, self._unpacked, self._source.unpacked_bytes)
        buffer[:size] = data
        return size

    def close(self) -> None:
        """Close the member too."""
        self._member.close()
        super().close()


def _csv_members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    # By name only: ZipInfo.is_dir() raises IndexError on the empty name of a damaged entry.
    members = [info for info in archive.infolist() if info.filename.lower().endswith(".csv")]
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
def open_source(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[Source]:
    """The export at `path`: a folder or a .zip file (SourceError if it is neither)."""
    if path.is_dir():
        yield FolderSource(path, limits)
        return
    try:
        archive = zipfile.ZipFile(path)
    except _ZIP_ERRORS as error:
        raise SourceError("bad_archive", reason=str(error)) from None
    with archive:
        yield ZipSource(archive, limits)


class _CountingStream(io.RawIOBase):
    """A binary stream that adds the bytes it reads to a ByteCounter and refuses a line longer
    than `max_line_bytes` (LineTooLongError) as soon as the bytes read pass the cap."""

    def __init__(self, raw: BinaryIO, counter: ByteCounter, max_line_bytes: int) -> None:
        super().__init__()
        self._raw = raw
        self._counter = counter
        self._max_line_bytes = max_line_bytes
        # Bytes of the line still open at the end of what was read so far.
        self._open_line = 0

    def readable(self) -> bool:
        """Always readable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from the underlying stream, count the bytes and check line lengths."""
        # Never more than one line's cap at once: a line inside one read is then within it,
        # and only the line running on from earlier reads needs counting.
        data = self._raw.read(min(len(buffer), self._max_line_bytes))
        size = len(data)
        self._check_lines(data)
        buffer[:size] = data
        self._counter.done += size
        return size

    def _check_lines(self, data: bytes) -> None:
        """Follow the open line's length across reads (CR, LF or CRLF end a line)."""
        first = min((at for at in (data.find(b"\n"), data.find(b"\r")) if at >= 0), default=-1)
        if first < 0:
            self._open_line += len(data)
        else:
            self._open_line += first
            if self._open_line <= self._max_line_bytes:
                self._open_line = len(data) - max(data.rfind(b"\n"), data.rfind(b"\r")) - 1
        if self._open_line > self._max_line_bytes:
            raise LineTooLongError(self._max_line_bytes)

    def close(self) -> None:
        """Close the underlying stream too."""
        self._raw.close()
        super().close()


@contextmanager
def open_text(
    source: Source, name: str, counter: ByteCounter
) -> Iterator[tuple[io.TextIOWrapper, bool]]:
    """The file as UTF-8 text for the csv module, and whether it started with a BOM."""
    counting = _CountingStream(source.open(name), counter, source.limits.max_line_bytes)
    raw = io.BufferedReader(counting, _READ_BUFFER_BYTES)
    # newline="" lets the csv module handle CRLF and line breaks inside quoted values.
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    try:
        # Peeking reads the first bytes, which may already be refused (a damaged member).
        has_bom = raw.peek(len(BOM))[: len(BOM)] == BOM
        yield text, has_bom
    finally:
        text.close()
