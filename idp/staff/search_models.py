"""The staff desk's search index (issue 16.3): the normalized terms of every person and account.

A term table rather than normalized columns: a person is found by several words (each given
and family name, the Person ID, which is also a student's student ID, the username and email
of its accounts), every word a prefix of one of them. One row per term makes each word one
B-tree range (`term >= 'mar' AND term < 'mas'`) on PostgreSQL and SQLite alike: the column is
compared byte by byte (`COLLATE "C"`, SQLite's BINARY), so no LIKE, pattern operator class or
extension (unaccent, pg_trgm) is needed. Each row carries its subject's sort key, so the index
(term, sort_key, id) hands out a word's matches in the search's order. `person_search_term`
holds a roster Person's terms and its accounts'; `account_search_term` an account's without a
Person (staff, unlinked). `person_search_school` holds the schools through which the desk sees
each person (the rule of idp/staff/scope.py as rows): one probe per candidate for school staff,
instead of every guardian of their schools.

Derived data, rewritten whole for a subject when something it is built from changes. The ORM
writes of persons, accounts, enrolments and relationships (account creation, registration,
the bridge, student accounts, a link to a person, the purge of an unconfirmed registration,
the demo loader, the tests' builders) reach the mapper events at the end of this module; the
set-based writes call the refresh themselves: the OneRoster import, the deletion purge.

`fold` normalizes text: NFKD, combining marks dropped, case folded, apostrophes dropped, and
the letters NFKD keeps whole spelled in plain Latin, so "jose" finds José, "muller" Müller,
"dang" Đặng and "obrien" O'Brien.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from itertools import groupby
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    ForeignKey,
    Index,
    Select,
    String,
    and_,
    delete,
    event,
    insert,
    select,
    true,
    union,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column
from sqlalchemy.orm.attributes import get_history

from idp.accounts.models import Account
from idp.batches import chunks
from idp.extensions import db
from idp.roster.models import Enrollment, Person, Relationship

_BATCH = 20000  # rows per COPY, and persons read per round trip, in bulk
TERM_LENGTH = 320  # an email (254) after folding, with room for letters that fold longer
SORT_KEY_LENGTH = 200
# Byte-wise comparison: a prefix is one range of the index (see the module docstring).
_BYTEWISE = String(TERM_LENGTH).with_variant(String(TERM_LENGTH, collation="C"), "postgresql")
_BYTEWISE_SORT = String(SORT_KEY_LENGTH).with_variant(
    String(SORT_KEY_LENGTH, collation="C"), "postgresql"
)
# Letters NFKD does not decompose (\u0131: dotless i), spelled as typed without the accent.
_LATIN = str.maketrans(
    {"đ": "d", "ð": "d", "ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "þ": "th", "\u0131": "i"}
)
# Apostrophes, typographic (\u2019) and modifier (\u02bc) ones too: O'Brien is obrien.
_APOSTROPHES = str.maketrans(dict.fromkeys("'\u2019\u02bc`", None))
_NAME_SEPARATORS = re.compile(r"[^\w-]+")
MAX_TEXT_LENGTH = 100  # of a search
MAX_WORDS = 6
_EDGE_PUNCTUATION = '.,;:!?"()[]{}<>'


class PersonSearchTerm(db.Model):  # type: ignore[name-defined,misc]
    """One normalized term of a roster Person or of one of its accounts."""

    __tablename__ = "person_search_term"
    __table_args__ = (Index("ix_person_search_term_walk", "term", "sort_key", "person_id"),)

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(_BYTEWISE, primary_key=True)
    # The person's fold("family given"): the order of a word's matches.
    sort_key: Mapped[str] = mapped_column(_BYTEWISE_SORT)


class AccountSearchTerm(db.Model):  # type: ignore[name-defined,misc]
    """One normalized term of an account that has no roster Person (staff, unlinked)."""

    __tablename__ = "account_search_term"
    __table_args__ = (Index("ix_account_search_term_walk", "term", "sort_key", "account_id"),)

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(_BYTEWISE, primary_key=True)
    sort_key: Mapped[str] = mapped_column(_BYTEWISE_SORT)  # fold(username or email)


class PersonSearchSchool(db.Model):  # type: ignore[name-defined,misc]
    """A school through which the desk sees a person (idp/staff/scope.py): the person is
    enrolled there, or is the guardian of a student enrolled there (restricted or not)."""

    __tablename__ = "person_search_school"
    __table_args__ = (Index("ix_person_search_school_person", "person_id", "school_id"),)

    school_id: Mapped[int] = mapped_column(
        ForeignKey("school.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )


def fold(text: str) -> str:
    """`text` for comparison: NFKD, no combining marks, case folded, no apostrophes, and
    the letters NFKD keeps whole in their plain Latin spelling."""
    if text.isascii():
        return text.lower().translate(_APOSTROPHES)
    # Decomposed again after case folding: folding "İ" gives "i" and a combining dot.
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return plain.translate(_LATIN).translate(_APOSTROPHES)


@lru_cache(maxsize=65536)  # names repeat: a district has far fewer names than persons
def name_terms(name: str) -> frozenset[str]:
    """The terms of a given or family name: each word, and each part of a hyphenated one."""
    terms: set[str] = set()
    for word in _NAME_SEPARATORS.split(fold(name)):
        word = word.strip("-_")[:TERM_LENGTH]
        if word:
            terms.add(word)
            terms.update(part for part in word.split("-") if part and "-" in word)
    return frozenset(terms)


def identifier_term(value: str) -> str:
    """The term of a Person ID, username or email: the whole value, folded, without spaces
    (a student ID is compared without spaces, as at sign-in) or control characters."""
    if value.isascii() and value.isalnum():
        return value.lower()[:TERM_LENGTH]
    folded = fold(value)
    if not folded.isprintable():
        folded = "".join(char for char in folded if char.isprintable())
    return "".join(folded.split())[:TERM_LENGTH]


def person_sort_key(family_name: str, given_name: str) -> str:
    """Family name, then given name, folded: the order of the search's hits."""
    parts = (_sort_part(family_name), _sort_part(given_name))
    return " ".join(part for part in parts if part)[:SORT_KEY_LENGTH]


@lru_cache(maxsize=65536)
def _sort_part(name: str) -> str:
    folded = fold(name)
    if not folded.isprintable():
        folded = "".join(char if char.isprintable() else " " for char in folded)
    return " ".join(folded.split())


def _person_rows(person: Any, accounts: Iterable[Any]) -> list[tuple[int, str, str]]:
    terms = set(name_terms(person.given_name))
    terms |= name_terms(person.family_name)
    terms.add(identifier_term(person.sis_person_id))
    for account in accounts:
        for value in (account.username, account.email):
            if value:
                terms.add(identifier_term(value))
    terms.discard("")
    sort_key, person_id = person_sort_key(person.family_name, person.given_name), person.id
    return [(person_id, term, sort_key) for term in terms]


def query_words(text: str) -> list[str]:
    """The words of a search, folded as the terms are; a word that begins another one says
    nothing more ("mar maria" is "maria")."""
    words: list[str] = []
    for raw in fold(text[:MAX_TEXT_LENGTH]).split():
        word = "".join(char for char in raw if char.isprintable()).strip(_EDGE_PUNCTUATION)
        if word and word not in words:
            words.append(word)
    kept = [w for w in words if not any(o != w and o.startswith(w) for o in words)]
    return kept[:MAX_WORDS]


def _successor(word: str) -> str | None:
    """The least string above every string that starts with `word` (None: there is none)."""
    while word and ord(word[-1]) == 0x10FFFF:
        word = word[:-1]
    return word[:-1] + chr(ord(word[-1]) + 1) if word else None


def starts_with(term: Any, word: str) -> ColumnElement[bool]:
    """SQL: `term` starts with `word`, as one range of the byte-wise index."""
    upper = _successor(word)
    return term >= word if upper is None else and_(term >= word, term < upper)


def refresh_persons(
    connection: Connection, person_ids: Iterable[int], without_accounts: Sequence[int] = ()
) -> None:
    """Rewrite the terms of these persons from their rows and their accounts' rows, leaving
    out the accounts `without_accounts` (a person that no longer exists keeps none)."""
    for chunk in chunks(sorted(set(person_ids))):
        _rewrite_persons(connection, Person.id.in_(chunk), without_accounts)


def refresh_persons_updated_at(connection: Connection, updated_at: datetime) -> None:
    """Rewrite the terms of the persons a set-based write stamped `updated_at` (the roster
    import stamps each person it inserts or changes with its own time): read in one pass,
    written in batches, as a first import writes a whole district."""
    _rewrite_persons(connection, Person.updated_at == updated_at, (), is_bulk=True)


def _rewrite_persons(
    connection: Connection,
    which: ColumnElement[bool],
    without_accounts: Sequence[int],
    is_bulk: bool = False,
) -> None:
    stale = PersonSearchTerm.person_id.in_(select(Person.id).where(which))
    connection.execute(delete(PersonSearchTerm).where(stale))
    linked = and_(
        Account.person_id == Person.id,
        Account.username.is_not(None) | Account.email.is_not(None),
        Account.id.not_in(without_accounts) if without_accounts else true(),
    )
    query = (
        select(Person.id, Person.given_name, Person.family_name, Person.sis_person_id)
        .add_columns(Account.username, Account.email)
        .outerjoin(Account, linked)
        .where(which)
        .order_by(Person.id)
    )
    if is_bulk:
        query = query.execution_options(stream_results=True, yield_per=_BATCH)
    rows: list[tuple[int, str, str]] = []
    for _, group in groupby(connection.execute(query), key=lambda row: row.id):
        person, *others = group
        rows += _person_rows(person, (person, *others))
        if len(rows) >= _BATCH:
            _insert(connection, PersonSearchTerm, rows)
            rows = []
    _insert(connection, PersonSearchTerm, rows)


def refresh_accounts(connection: Connection, account_ids: Iterable[int]) -> None:
    """Rewrite the terms these accounts give: to their person, or their own when they have
    none (an account with neither username nor email has no terms)."""
    for chunk in chunks(sorted(set(account_ids))):
        columns = (Account.id, Account.person_id, Account.username, Account.email)
        accounts = connection.execute(select(*columns).where(Account.id.in_(chunk))).all()
        refresh_persons(connection, (a.person_id for a in accounts if a.person_id is not None))
        connection.execute(delete(AccountSearchTerm).where(AccountSearchTerm.account_id.in_(chunk)))
        rows = [
            # An account without a person sorts by its username (or email).
            (a.id, term, identifier_term(a.username or a.email or "")[:SORT_KEY_LENGTH])
            for a in accounts
            if a.person_id is None
            for term in sorted({identifier_term(v) for v in (a.username, a.email) if v})
            if term
        ]
        _insert(connection, AccountSearchTerm, rows)


def forget_accounts(connection: Connection, account_ids: Sequence[int]) -> None:
    """Drop every term these accounts give, before their username, email and person link are
    purged (idp/lifecycle/purge.py): their persons keep their own terms and other accounts'."""
    for chunk in chunks(account_ids):
        linked = select(Account.person_id).where(Account.id.in_(chunk)).distinct()
        persons = [p for p in connection.execute(linked).scalars() if p is not None]
        refresh_persons(connection, persons, without_accounts=chunk)
        connection.execute(delete(AccountSearchTerm).where(AccountSearchTerm.account_id.in_(chunk)))


def _visible_schools(person_ids: Sequence[int] | None) -> Select[Any]:
    """(person_id, school_id): the rule of idp/staff/scope.py (persons_condition) per school,
    for these persons or everyone; tests/integration/staff/test_search.py holds them equal."""
    enrolled = select(Enrollment.person_id, Enrollment.school_id).where(
        Enrollment.is_active.is_(True)
    )
    children = (
        select(Relationship.guardian_id.label("person_id"), Enrollment.school_id)
        .join(Enrollment, Enrollment.person_id == Relationship.student_id)
        .where(Relationship.is_active.is_(True), Enrollment.is_active.is_(True))
    )
    if person_ids is not None:
        enrolled = enrolled.where(Enrollment.person_id.in_(person_ids))
        children = children.where(Relationship.guardian_id.in_(person_ids))
    return union(enrolled, children)  # type: ignore[return-value]


def refresh_schools(connection: Connection, person_ids: Iterable[int]) -> None:
    """Rewrite the schools through which the desk sees these persons."""
    for chunk in chunks(sorted(set(person_ids))):
        table = PersonSearchSchool.__table__
        connection.execute(delete(table).where(table.c.person_id.in_(chunk)))
        fresh = _visible_schools(chunk)
        connection.execute(insert(table).from_select(["person_id", "school_id"], fresh))


def resync_schools(connection: Connection) -> None:
    """Bring every person's schools up to date, changing only the rows that differ (the roster
    import writes enrolments and relationships in bulk)."""
    table = PersonSearchSchool.__table__
    fresh = _visible_schools(None).subquery()
    same = (fresh.c.person_id == table.c.person_id) & (fresh.c.school_id == table.c.school_id)
    connection.execute(delete(table).where(~select(fresh.c.person_id).where(same).exists()))
    missing = select(fresh.c.person_id, fresh.c.school_id).where(
        ~select(table.c.person_id).where(same).exists()
    )
    connection.execute(insert(table).from_select(["person_id", "school_id"], missing))


def _insert(connection: Connection, model: type[Any], rows: list[tuple[int, str, str]]) -> None:
    """Insert (subject id, term, sort key) rows: COPY on PostgreSQL, where a first roster import
    writes millions of them (an executemany sends one INSERT per row)."""
    if not rows:
        return
    table = model.__table__
    names = [column.name for column in table.columns]  # the subject, term, sort_key
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])
        return
    # COPY's text format; terms and sort keys hold no tab, newline or return (whitespace is
    # folded away), a backslash is doubled.
    data = "".join(f"{owner}\t{term}\t{key}\n" for owner, term, key in rows)
    driver: Any = connection.connection.driver_connection  # psycopg: COPY is its own API
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(data.replace("\\", "\\\\") if "\\" in data else data)


# Every ORM write of a Person or an Account keeps its terms current (see the module docstring).


@event.listens_for(Person, "after_insert")
def _person_inserted(mapper: Mapper[Any], connection: Connection, person: Person) -> None:
    refresh_persons(connection, [person.id])


@event.listens_for(Person, "after_update")
def _person_updated(mapper: Mapper[Any], connection: Connection, person: Person) -> None:
    if _changed(person, "given_name", "family_name", "sis_person_id"):
        refresh_persons(connection, [person.id])


@event.listens_for(Account, "after_insert")
def _account_inserted(mapper: Mapper[Any], connection: Connection, account: Account) -> None:
    refresh_accounts(connection, [account.id])


@event.listens_for(Account, "after_update")
def _account_updated(mapper: Mapper[Any], connection: Connection, account: Account) -> None:
    if not _changed(account, "person_id", "username", "email"):
        return
    link = get_history(account, "person_id")
    refresh_accounts(connection, [account.id])
    # The person it was linked to before keeps only what is still linked to it.
    refresh_persons(connection, [old for old in link.deleted or () if isinstance(old, int)])


@event.listens_for(Enrollment, "after_insert")
@event.listens_for(Enrollment, "after_delete")
def _enrollment_written(mapper: Mapper[Any], connection: Connection, row: Enrollment) -> None:
    guardians = select(Relationship.guardian_id).where(Relationship.student_id == row.person_id)
    refresh_schools(connection, [row.person_id, *connection.execute(guardians).scalars()])


@event.listens_for(Enrollment, "after_update")
def _enrollment_updated(mapper: Mapper[Any], connection: Connection, row: Enrollment) -> None:
    if _changed(row, "is_active", "school_id", "person_id"):
        _enrollment_written(mapper, connection, row)


@event.listens_for(Relationship, "after_insert")
@event.listens_for(Relationship, "after_delete")
def _relationship_written(mapper: Mapper[Any], connection: Connection, row: Relationship) -> None:
    refresh_schools(connection, [row.guardian_id, *get_history(row, "guardian_id").deleted])


@event.listens_for(Relationship, "after_update")
def _relationship_updated(mapper: Mapper[Any], connection: Connection, row: Relationship) -> None:
    # A restriction changes what the guardian may see, not whether the desk sees them.
    if _changed(row, "is_active", "student_id", "guardian_id"):
        _relationship_written(mapper, connection, row)


def _changed(row: Any, *names: str) -> bool:
    return any(get_history(row, name).has_changes() for name in names)
