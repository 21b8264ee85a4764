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
    """`original` with a few bytes changed, inserted or cut."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
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


@st.composite
def damaged_zip(draw: st.DrawFn) -> bytes:
    """A ZIP of a valid export (stored or deflated), mutated as bytes."""
    files = draw(st.sampled_from(VALID_EXPORTS))
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return draw(mutated(buffer.getvalue()))
