"""manifest.csv: the OneRoster version and, per file, bulk, delta or absent."""

from __future__ import annotations

from dataclasses import dataclass

from idp.roster.oneroster.report import ImportReport, Problem
from idp.roster.oneroster.source import ByteCounter, Source, open_text
from idp.roster.oneroster.spec import MANIFEST, MODES, READ_ORDER, ROLES, USERS, VERSIONS, FileSpec
from idp.roster.oneroster.table import FileContext, Table

_MANIFEST_SPEC = FileSpec(
    "manifest", dict.fromkeys(VERSIONS, ("propertyName", "value")), ("propertyName", "value")
)
_FILE_PREFIX = "file."


@dataclass(frozen=True)
class Manifest:
    """The version, and the mode of each file the IdP reads ('bulk', 'delta' or 'absent')."""

    version: str
    modes: dict[str, str]

    def mode(self, spec: FileSpec) -> str:
        """The manifest mode of one file."""
        return self.modes.get(spec.key, "absent")

    def is_read(self, spec: FileSpec) -> bool:
        """True if the file is part of this import."""
        return self.mode(spec) in ("bulk", "delta")


def read_manifest(source: Source, report: ImportReport, counter: ByteCounter) -> Manifest | None:
    """Read and check manifest.csv; None if the import cannot go on without it."""
    if MANIFEST not in source.names():
        report.error(Problem("manifest_missing", MANIFEST))
        return None
    context = FileContext(_MANIFEST_SPEC, VERSIONS[0], "bulk", report)
    properties: dict[str, tuple[str, int]] = {}
    with open_text(source, MANIFEST, counter) as (text, has_bom):
        table = Table(context, text)
        if has_bom:
            table.warn("bom", None)
        if not table.read_header():
            return None
        fetch = table.fetcher(("propertyName", "value"))
        for row in table.rows():
            name, value = fetch(row)
            properties.setdefault(name, (value, table.line))
    version = _version(table, properties)
    if version is None:
        return None
    manifest = Manifest(version, _modes(table, properties, version, source.names()))
    if version == "1.2" and manifest.is_read(USERS) and not manifest.is_read(ROLES):
        report.error(Problem("roles_missing", MANIFEST))
    return manifest


def _version(table: Table, properties: dict[str, tuple[str, int]]) -> str | None:
    value, line = properties.get("oneroster.version", ("", 1))
    table.line = line
    if value not in VERSIONS:
        table.error("bad_version", "value", value=value)
        return None
    return value


def _modes(
    table: Table, properties: dict[str, tuple[str, int]], version: str, present: frozenset[str]
) -> dict[str, str]:
    """Each read file's mode; unknown modes of files the IdP does not read only warn."""
    read_keys = {spec.key for spec in READ_ORDER if version in spec.columns}
    modes: dict[str, str] = {}
    for name, (value, line) in properties.items():
        if not name.startswith(_FILE_PREFIX):
            continue
        key = name.removeprefix(_FILE_PREFIX)
        table.line = line
        if key in read_keys:
            mode = table.token(value, "value", MODES)
            if mode is not None:
                modes[key] = mode
        elif value not in MODES:
            table.warn("unread_mode", "value", value=value)
    for spec in READ_ORDER:
        if spec.key in read_keys:
            _check_presence(table, spec, modes, properties, present)
    return modes


def _check_presence(
    table: Table,
    spec: FileSpec,
    modes: dict[str, str],
    properties: dict[str, tuple[str, int]],
    present: frozenset[str],
) -> None:
    """A listed file must be there; a file that is there must be listed."""
    entry = properties.get(_FILE_PREFIX + spec.key)
    mode = modes.get(spec.key)
    if entry is None:
        if spec.name in present:
            params = {"file": spec.name, "key": spec.key}
            table.context.report.error(Problem("not_in_manifest", MANIFEST, params=params))
        return
    table.line = entry[1]
    if mode in ("bulk", "delta") and spec.name not in present:
        table.error("file_missing", "value", file=spec.name, mode=mode)
        modes.pop(spec.key)
    elif mode == "absent" and spec.name in present:
        table.context.report.warn(Problem("absent_but_present", spec.name))
