"""Hypothesis strategies for fuzzing the OneRoster import: damaged exports and ZIP archives.

Shared by the reader's fuzz test (tests/unit/roster) and the import's (tests/integration/roster).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from hypothesis import strategies as st

from tests.roster_exports import Export, district_11, district_12

# Bytes that matter to CSV, UTF-8 and the values the reader checks.
TOKENS = [
    b'"', b",", b"\n", b"\r", b"\r\n", b"\x00", b"\xef\xbb\xbf", b"\xff", b"\xc3", "é".encode(),
    b" ", b"tobedeleted", b"bulk", b"delta", b"absent", b"1.2", b"student", b"parent",
    b"2024-02-30", b"u-ana", b"org-es1", b"metadata.x",
]  # fmt: skip


def _files(export: Export) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as folder:
        written = export.write(Path(folder))
        return {path.name: path.read_bytes() for path in sorted(written.iterdir())}


VALID_EXPORTS = [_files(district_11()), _files(district_12())]


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """`original` with a few bytes changed, inserted or cut, anywhere in it."""
    data = bytearray(original)
    # Places drawn uniformly: hypothesis' own integers favour the first bytes (the headers).
    places = draw(st.randoms(use_true_random=False))
    for _ in range(draw(st.integers(1, 6))):
        at = places.randint(0, len(data))
        action = draw(st.sampled_from(["replace", "insert", "delete", "cut"]))
        if action == "replace" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 12))]
        elif action == "cut":
            del data[at:]
    return bytes(data)


@st.composite
def damaged_export(draw: st.DrawFn) -> dict[str, bytes]:
    """A valid export with one file mutated or replaced by random bytes."""
    files = dict(draw(st.sampled_from(VALID_EXPORTS)))
    name = draw(st.sampled_from(sorted(files)))
    files[name] = draw(mutated(files[name]) | st.binary(max_size=400))
    return files


def zip_of(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The files as one ZIP archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _packed_data(archive: bytes, name: str) -> slice:
    """Where the packed bytes of member `name` are in `archive`."""
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        info = opened.getinfo(name)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    return slice(start, start + info.compress_size)


@st.composite
def damaged_zip(draw: st.DrawFn) -> bytes:
    """A ZIP of a valid export (stored or deflated), mutated anywhere or in one member's data."""
    files = draw(st.sampled_from(VALID_EXPORTS))
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    archive = zip_of(files, method)
    if draw(st.booleans()):
        return draw(mutated(archive))
    packed = _packed_data(archive, draw(st.sampled_from(sorted(files))))
    damaged = draw(mutated(archive[packed]))
    return archive[: packed.start] + damaged + archive[packed.stop :]


def _damaged_deflate() -> bytes:
    archive = bytearray(zip_of(VALID_EXPORTS[0]))
    packed = _packed_data(bytes(archive), "users.csv")
    for at in range(packed.start, packed.start + 20):
        archive[at] ^= 0xFF
    return bytes(archive)


def _member_without_a_name() -> bytes:
    buffer = io.BytesIO(zip_of(VALID_EXPORTS[0]))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(zipfile.ZipInfo(""), b"no name")
    return buffer.getvalue()


# Inputs that raised before issue 14's fixes, tried first on every run (@example).
NUL_IN_A_NAME = {
    **VALID_EXPORTS[0],
    "users.csv": VALID_EXPORTS[0]["users.csv"].replace(b"Ben", b"B\x00en"),
}
DAMAGED_DEFLATE_ZIP = _damaged_deflate()
NAMELESS_MEMBER_ZIP = _member_without_a_name()
