"""The operator's side of the bridge: importing legacy IC hashes, and a person's bridge status.

The import file (`idp bridge import FILE`) is CSV in UTF-8 with the header line
`ic_username,person_id,legacy_hash`: the IC username, the SIS Person ID of the guardian, and
the legacy hash in one of the formats of idp/bridge/rules.py. The file is checked whole before
anything changes: one problem anywhere and nothing is imported. Importing a newer export again
updates the hashes of credentials not migrated yet and keeps migrated ones as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import Account
from idp.audit.service import AuditLog
from idp.bridge import rules
from idp.bridge.errors import (
    LegacyColumnCountError,
    LegacyFileError,
    LegacyFileUnreadableError,
    LegacyHeaderError,
    LegacyLineError,
    LegacyPersonUnknownError,
    LegacyUsernameInvalidError,
    LegacyUsernameOtherPersonError,
    LegacyUsernameRepeatedError,
    PersonNotFoundError,
    VerifierPartsError,
)
from idp.bridge.models import LegacyCredential
from idp.clock import Clock
from idp.roster.models import Person

COLUMNS = ("ic_username", "person_id", "legacy_hash")
# `idp bridge import --help` (click keeps the lines after \b as they are).
IMPORT_HELP = """Import legacy IC accounts from FILE (CSV), all or nothing.

\b
FILE is CSV in UTF-8 whose first line names the columns:
  ic_username,person_id,legacy_hash
ic_username  the Infinite Campus username (1-64 characters, no spaces)
person_id    the SIS Person ID of a guardian in the roster
legacy_hash  the IC password hash, in one of these forms:
  $2b$<cost>$<53 characters>
      bcrypt ($2a$, $2b$ or $2y$, cost 04-31); the first 72 bytes of the password count
  pbkdf2_sha256$<iterations>$<salt>$<hash>
  pbkdf2_sha1$<iterations>$<salt>$<hash>
      PBKDF2-HMAC-SHA256 / -SHA1 of the UTF-8 password; salt and hash in standard
      base64; iterations 1-10000000; the hash's length (16-64 bytes) is the key length
  salted_sha256$<salt>$<hash>
      SHA-256 of the salt bytes followed by the UTF-8 password; salt and 32-byte hash
      in standard base64

\b
A bad line stops the import: each is printed as FILE:LINE: reason and nothing changes.
Importing a newer export again updates the hashes of IC usernames not migrated yet.
"""
_MAX_IC_USERNAME = 64  # legacy_credential.ic_username
_MAX_VERIFIER = 255  # legacy_credential.verifier
_CHUNK = 500  # names per IN (...) query


@dataclass(frozen=True)
class ImportReport:
    """What an import changed."""

    created: int
    updated: int
    unchanged: int

    def as_line(self) -> str:
        """One line for the operator."""
        return (
            f"imported {self.created} new, updated {self.updated},"
            f" unchanged {self.unchanged} (same hash or already migrated)"
        )


@dataclass(frozen=True)
class BridgeStatus:
    """One legacy credential of a person, as staff see it."""

    ic_username: str
    scheme: str
    imported_at: datetime
    migrated_at: datetime | None
    portal_username: str | None  # of the account it was migrated to


@dataclass(frozen=True)
class _Line:
    number: int
    ic_username: str
    person_id: int
    scheme: str
    verifier: str


class LegacyCredentialService:
    """Imports legacy hashes (all or nothing) and reports a person's bridge status."""

    def __init__(self, session: Session, clock: Clock, audit: AuditLog) -> None:
        self._session = session
        self._clock = clock
        self._audit = audit

    def import_file(self, path: Path) -> ImportReport:
        """Check every line, then import them all; raise LegacyFileError listing every bad
        line (nothing changed), or LegacyFileUnreadableError."""
        records = _read(path)
        lines, problems = self._check(records)
        if problems:
            raise LegacyFileError(problems)
        report = self._store(lines)
        self._audit.record(
            "bridge:credential:imported",
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
        )
        return report

    def status(self, sis_person_id: str) -> tuple[BridgeStatus, ...]:
        """The person's legacy credentials (none: empty) and when each was migrated."""
        person = self._session.execute(
            select(Person).where(Person.sis_person_id == sis_person_id.strip())
        ).scalar_one_or_none()
        if person is None:
            raise PersonNotFoundError(person_id=sis_person_id.strip())
        query = (
            select(LegacyCredential, Account.username)
            .outerjoin(Account, Account.id == LegacyCredential.account_id)
            .where(LegacyCredential.person_id == person.id)
            .order_by(LegacyCredential.imported_at, LegacyCredential.id)
        )
        rows = self._session.execute(query).all()
        return tuple(_status(row.LegacyCredential, row.username) for row in rows)

    def _check(
        self, records: Sequence[tuple[int, list[str]]]
    ) -> tuple[list[_Line], list[tuple[int, LegacyLineError]]]:
        if not records or [cell.strip().lower() for cell in records[0][1]] != list(COLUMNS):
            number = records[0][0] if records else 1
            return [], [(number, LegacyHeaderError(columns=",".join(COLUMNS)))]
        body = records[1:]
        persons = self._guardians({cells[1].strip() for _, cells in body if len(cells) > 1})
        existing = self._existing(
            {rules.ic_username_key(cells[0].strip()) for _, cells in body if cells}
        )
        lines: list[_Line] = []
        problems: list[tuple[int, LegacyLineError]] = []
        first_seen: dict[str, int] = {}
        for number, cells in body:
            try:
                line = _line(number, cells, persons, first_seen)
                _refuse_other_person(line, existing.get(rules.ic_username_key(line.ic_username)))
                lines.append(line)
            except LegacyLineError as error:
                problems.append((number, error))
        return lines, problems

    def _store(self, lines: Sequence[_Line]) -> ImportReport:
        now = self._clock.now()
        existing = self._existing({rules.ic_username_key(line.ic_username) for line in lines})
        created = updated = unchanged = 0
        for line in lines:
            row = existing.get(rules.ic_username_key(line.ic_username))
            if row is None:
                self._session.add(
                    LegacyCredential(
                        ic_username=line.ic_username,
                        person_id=line.person_id,
                        scheme=line.scheme,
                        verifier=line.verifier,
                        imported_at=now,
                    )
                )
                created += 1
            elif row.migrated_at is not None or row.verifier == line.verifier:
                unchanged += 1  # a migrated credential keeps the hash it was migrated with
            else:
                row.scheme, row.verifier, row.imported_at = line.scheme, line.verifier, now
                updated += 1
        self._session.flush()
        return ImportReport(created, updated, unchanged)

    def _guardians(self, sis_person_ids: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(sorted(sis_person_ids)):
            query = select(Person.sis_person_id, Person.id).where(
                Person.sis_person_id.in_(chunk), Person.role == "guardian"
            )
            found.update({row.sis_person_id: row.id for row in self._session.execute(query)})
        return found

    def _existing(self, keys: set[str]) -> dict[str, LegacyCredential]:
        """The stored credentials whose rules.ic_username_key is among `keys`, by that key."""
        found: dict[str, LegacyCredential] = {}
        for chunk in _chunks(sorted(keys)):
            query = select(LegacyCredential).where(
                rules.ic_username_among_sql(LegacyCredential.ic_username, chunk)
            )
            found.update(
                {
                    rules.ic_username_key(row.ic_username): row
                    for row in self._session.scalars(query)
                }
            )
        return found


def _status(credential: LegacyCredential, portal_username: str | None) -> BridgeStatus:
    """A credential as `idp bridge status` shows it; the portal username once migrated."""
    return BridgeStatus(
        ic_username=credential.ic_username,
        scheme=credential.scheme,
        imported_at=credential.imported_at,
        migrated_at=credential.migrated_at,
        portal_username=portal_username if credential.migrated_at else None,
    )


def _read(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank record; `utf-8-sig` accepts Excel's BOM."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            return [(reader.line_num, cells) for cells in reader if any(c.strip() for c in cells)]
    except UnicodeDecodeError:
        raise LegacyFileUnreadableError from None


def _line(
    number: int, cells: list[str], persons: dict[str, int], first_seen: dict[str, int]
) -> _Line:
    """One checked line; raise the LegacyLineError of its first problem."""
    if len(cells) != len(COLUMNS):
        raise LegacyColumnCountError(expected=len(COLUMNS), found=len(cells))
    ic_username, sis_person_id, verifier = (cell.strip() for cell in cells)
    if not ic_username or len(ic_username) > _MAX_IC_USERNAME or _has_space(ic_username):
        raise LegacyUsernameInvalidError(max=_MAX_IC_USERNAME)
    earlier = first_seen.setdefault(rules.ic_username_key(ic_username), number)
    if earlier != number:
        raise LegacyUsernameRepeatedError(ic_username=ic_username, line=earlier)
    person_id = persons.get(sis_person_id)
    if person_id is None:
        raise LegacyPersonUnknownError(person_id=sis_person_id)
    scheme = rules.scheme_of(verifier)
    if len(verifier) > _MAX_VERIFIER:
        raise VerifierPartsError(scheme=scheme)
    return _Line(number, ic_username, person_id, scheme, verifier)


def _refuse_other_person(line: _Line, row: LegacyCredential | None) -> None:
    if row is not None and row.person_id != line.person_id:
        raise LegacyUsernameOtherPersonError(ic_username=line.ic_username)


def _has_space(text: str) -> bool:
    return any(character.isspace() for character in text)


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
