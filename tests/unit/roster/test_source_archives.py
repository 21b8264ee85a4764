"""Archives that cannot be read are a SourceError naming the member, never zipfile's exception."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from idp.roster.oneroster.source import SourceError, open_source

USERS_CSV = b"sourcedId,givenName,familyName\n" + b"u-1,Ana,Lopez\n" * 200
ORGS_CSV = b"sourcedId,name,type\norg-1,Lakeview,school\n"
# APPNOTE.TXT 4.3.7 and 4.3.12: offsets in a local file header and a central directory header.
LOCAL_NAME_OFFSET = 30
CENTRAL_FLAGS_OFFSET = 8


def _zip(path: Path, compression: int = zipfile.ZIP_DEFLATED) -> bytearray:
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("orgs.csv", ORGS_CSV)
        archive.writestr("users.csv", USERS_CSV)
    return bytearray(path.read_bytes())


def _users_data_offset(path: Path) -> int:
    """Where the packed bytes of users.csv begin (after its local header)."""
    with zipfile.ZipFile(path) as archive:
        header = archive.getinfo("users.csv").header_offset
    name_length, extra_length = struct.unpack_from("<HH", path.read_bytes(), header + 26)
    return header + LOCAL_NAME_OFFSET + name_length + extra_length


def _damaged_deflate(path: Path) -> None:
    data = _zip(path)
    start = _users_data_offset(path)
    for at in range(start, start + 20):
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def _bad_crc(path: Path) -> None:
    data = _zip(path, zipfile.ZIP_STORED)
    data[_users_data_offset(path) + 40] ^= 0x01  # one bit of the stored text
    path.write_bytes(bytes(data))


def _cut_in_the_users_data(path: Path) -> None:
    data = _zip(path)
    local = data[: _users_data_offset(path) + 10]
    # The central directory is kept, so the archive opens; the member's data ends early.
    central = data[data.index(b"PK\x01\x02") :]
    path.write_bytes(bytes(local + central))


def _encrypted(path: Path) -> None:
    data = _zip(path)
    entry = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4)  # users.csv's entry
    struct.pack_into("<H", data, entry + CENTRAL_FLAGS_OFFSET, 0x1)
    path.write_bytes(bytes(data))


def _bzip2(path: Path) -> None:
    _zip(path, zipfile.ZIP_BZIP2)


def _unpack_every_member(path: Path) -> None:
    with open_source(path) as source:
        for name in sorted(source.names()):
            with source.open(name) as member:
                member.read()


@pytest.mark.parametrize(
    ("damage", "code", "params"),
    [
        (_damaged_deflate, "damaged_member", {"member": "users.csv"}),
        (_bad_crc, "damaged_member", {"member": "users.csv"}),
        (_cut_in_the_users_data, "damaged_member", {}),
        (_encrypted, "encrypted_member", {"member": "users.csv"}),
        (_bzip2, "compression_method", {"member": "orgs.csv", "method": 12}),
    ],
    ids=["damaged deflate data", "bad CRC", "cut short", "encrypted", "bzip2"],
)
def test_member_that_cannot_be_unpacked_is_a_source_error_naming_it(
    tmp_path: Path, damage: Callable[[Path], None], code: str, params: dict[str, object]
) -> None:
    path = tmp_path / "export.zip"
    damage(path)

    with pytest.raises(SourceError) as refused:
        _unpack_every_member(path)

    assert refused.value.code == code
    # The reason, when there is one, is zipfile's or zlib's own words.
    assert {key: refused.value.params[key] for key in params} == params


@pytest.mark.parametrize(
    "content",
    [ORGS_CSV, b"", b"PK\x03\x04 not really"],
    ids=["a CSV file", "empty", "a local header only"],
)
def test_file_that_is_not_a_zip_archive_is_a_source_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(content)

    with pytest.raises(SourceError) as refused, open_source(path):
        pass

    assert refused.value.code == "bad_archive"


def test_zip_cut_short_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    data = _zip(path)
    path.write_bytes(bytes(data[: len(data) // 2]))

    with pytest.raises(SourceError) as refused, open_source(path):
        pass

    assert refused.value.params == {"reason": "File is not a zip file"}


def test_member_without_a_name_is_ignored(tmp_path: Path) -> None:
    # Found by the fuzz test: zipfile's ZipInfo.is_dir() fails on an empty name.
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("orgs.csv", ORGS_CSV)
        archive.writestr(zipfile.ZipInfo(""), b"no name")

    with open_source(path) as source:
        names = source.names()

    assert names == {"orgs.csv"}
