"""The staff desk's search index (issue 16.3): the normalized terms of every person and account.

Why a term table and not normalized columns: a person is found by any of several words (each
given and family name, the Person ID, which is also a student's student ID, and the username
and email of its accounts), and every word must be a prefix of one of them. One row per term
makes each word one B-tree range (`term >= 'mar' AND term < 'mas'`), the same on PostgreSQL
and SQLite: the column is compared byte by byte (`COLLATE "C"` on PostgreSQL, SQLite's
BINARY), so a prefix is a contiguous range of the index, and no LIKE, pattern operator class
or extension (unaccent, pg_trgm) is needed. Each row also carries its subject's sort key, so
the index `(term, sort_key, id)` hands out a word's matches already in the search's order.

Two tables, one per kind of subject: `person_search_term` (a roster Person, with the terms of
its accounts) and `account_search_term` (an account without a Person: staff, an unlinked
account). Each keys its rows by the subject, so its primary key is also the look-up "does this
subject have a term starting with ..." and the ON DELETE CASCADE of the subject's row.

The terms are derived data, rewritten whole for a subject whenever something it is built from
changes (`refresh_persons`, `refresh_accounts`). Every ORM write of a Person or an Account
(account creation, registration, the bridge, student accounts, a link to a person, the purge of
an unconfirmed registration, the demo loader, the tests' builders) reaches the mapper events at
the end of this module; the set-based writes call the refresh themselves: the OneRoster import
(`refresh_persons_updated_at`) and the deletion purge (`forget_accounts`, before it unlinks).

Text is normalized by `fold`: NFKD, combining marks dropped, case folded, and the letters NFKD
keeps whole mapped to their usual Latin spelling (Đặng -> dang, Søren -> soren), so "jose"
finds José, "muller" Müller and "dang" Đặng.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    ForeignKey,
    Index,
    String,
    and_,
    delete,
    event,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column
from sqlalchemy.orm.attributes import get_history

from idp.accounts.models import Account
from idp.batches import chunks
from idp.extensions import db
from idp.roster.models import Person

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
    folded = fold(value)
    if not folded.isprintable():
        folded = "".join(char for char in folded if char.isprintable())
    return "".join(folded.split())[:TERM_LENGTH]


def person_sort_key(family_name: str, given_name: str) -> str:
    """Family name, then given name, folded: the order of the search's hits."""
    return _printable(f"{fold(family_name)} {fold(given_name)}")[:SORT_KEY_LENGTH]


def account_sort_key(username: str | None, email: str | None) -> str:
    """An account without a person sorts by its username (or email)."""
    return identifier_term(username or email or "")[:SORT_KEY_LENGTH]


def _printable(text: str) -> str:
    if not text.isprintable():
        text = "".join(char if char.isprintable() else " " for char in text)
    return " ".join(text.split())


def _person_rows(person: Any, accounts: Iterable[Any]) -> list[dict[str, Any]]:
    terms = set(name_terms(person.given_name) | name_terms(person.family_name))
    terms.add(identifier_term(person.sis_person_id))
    for account in accounts:
        terms.update(identifier_term(value) for value in (account.username, account.email) if value)
    sort_key = person_sort_key(person.family_name, person.given_name)
    return [
        {"person_id": person.id, "term": term, "sort_key": sort_key}
        for term in sorted(terms)
        if term
    ]


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
        persons = connection.execute(
            select(Person.id, Person.given_name, Person.family_name, Person.sis_person_id).where(
                Person.id.in_(chunk)
            )
        ).all()
        linked = select(Account.person_id, Account.username, Account.email).where(
            Account.person_id.in_(chunk),
            Account.username.is_not(None) | Account.email.is_not(None),
        )
        if without_accounts:
            linked = linked.where(Account.id.not_in(without_accounts))
        accounts: dict[int, list[Any]] = {}
        for account in connection.execute(linked).all():
            accounts.setdefault(account.person_id, []).append(account)
        connection.execute(delete(PersonSearchTerm).where(PersonSearchTerm.person_id.in_(chunk)))
        rows = [row for p in persons for row in _person_rows(p, accounts.get(p.id, ()))]
        _insert(connection, PersonSearchTerm, rows)


def refresh_accounts(connection: Connection, account_ids: Iterable[int]) -> None:
    """Rewrite the terms these accounts give: to their person, or their own when they have
    none (an account with neither username nor email has no terms)."""
    for chunk in chunks(sorted(set(account_ids))):
        accounts = connection.execute(
            select(Account.id, Account.person_id, Account.username, Account.email).where(
                Account.id.in_(chunk)
            )
        ).all()
        refresh_persons(connection, (a.person_id for a in accounts if a.person_id is not None))
        connection.execute(delete(AccountSearchTerm).where(AccountSearchTerm.account_id.in_(chunk)))
        rows = [
            {"account_id": a.id, "term": term, "sort_key": account_sort_key(a.username, a.email)}
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
        linked = connection.execute(
            select(Account.person_id)
            .where(Account.id.in_(chunk), Account.person_id.is_not(None))
            .distinct()
        ).scalars()
        refresh_persons(connection, [p for p in linked if p is not None], without_accounts=chunk)
        connection.execute(delete(AccountSearchTerm).where(AccountSearchTerm.account_id.in_(chunk)))


def refresh_persons_updated_at(connection: Connection, updated_at: datetime) -> None:
    """Rewrite the terms of the persons a set-based write stamped `updated_at` (the roster
    import stamps each person it inserts or changes with its own time)."""
    ids = connection.execute(select(Person.id).where(Person.updated_at == updated_at)).scalars()
    refresh_persons(connection, ids.all())


def _insert(connection: Connection, model: type[Any], rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(model), rows)


# Every ORM write of a Person or an Account keeps its terms current (see the module docstring).


@event.listens_for(Person, "after_insert")
def _person_inserted(mapper: Mapper[Any], connection: Connection, person: Person) -> None:
    refresh_persons(connection, [person.id])


@event.listens_for(Person, "after_update")
def _person_updated(mapper: Mapper[Any], connection: Connection, person: Person) -> None:
    if any(
        get_history(person, name).has_changes()
        for name in ("given_name", "family_name", "sis_person_id")
    ):
        refresh_persons(connection, [person.id])


@event.listens_for(Account, "after_insert")
def _account_inserted(mapper: Mapper[Any], connection: Connection, account: Account) -> None:
    refresh_accounts(connection, [account.id])


@event.listens_for(Account, "after_update")
def _account_updated(mapper: Mapper[Any], connection: Connection, account: Account) -> None:
    link = get_history(account, "person_id")
    if not (
        link.has_changes()
        or get_history(account, "username").has_changes()
        or get_history(account, "email").has_changes()
    ):
        return
    refresh_accounts(connection, [account.id])
    # The person it was linked to before keeps only what is still linked to it.
    refresh_persons(connection, [old for old in link.deleted or () if isinstance(old, int)])
