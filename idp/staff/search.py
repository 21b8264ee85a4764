"""Find a person at the staff desk (issue 16.3): guardians, students and staff by name, Person
ID (a student's student ID), username or email; every word of the text is a prefix of one of
the person's terms (idp/staff/search_models.py), compared without case or accents.

Only the scope's persons are found (issue 16.2): the scope is part of the SQL, and the page's
persons pass the rule of idp/staff/scope.py once more, so another school's person never
reaches the desk.

The order is the index's, so that the first page of "ma" among a million persons costs a page:
by the term the longest word matched (its first one, if several), then family and given name
(folded), then id; for a whole name ("garcia", "jose") that is family name, given name, id.
A page is one statement (LIMIT per_page+1 after OFFSET) over one of two plans, chosen after
counting each word's terms (up to a cap) and, for school staff, the persons of their scope:

- driven: the candidates are a narrow word's (a Person ID, an email, a rare name, a miss), or
  the school staff member's scope; each is checked, then sorted;
- walked: otherwise (a district admin, broad words), the longest word's terms are read in
  index order, each checked, until the page is full; with other words the walk reads at most
  a budget of terms per hit, then gives way to the driven plan (two common names seldom
  together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Select,
    Table,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from idp.accounts.models import RELEASED_STATES, Account
from idp.roster.models import Person, School
from idp.staff.models import StaffAssignment
from idp.staff.scope import StaffScope
from idp.staff.search_models import (
    AccountSearchTerm,
    PersonSearchSchool,
    PersonSearchTerm,
    query_words,
    starts_with,
)

MAX_PAGE = 400
MAX_PER_PAGE = 100
# A word with at most this many terms drives the query (see the module docstring).
NARROW_TERMS = 5000
# A walk with other words reads at most this many terms per hit (and WALK_MIN_TERMS at least).
WALK_TERMS_PER_HIT = 200
WALK_MIN_TERMS = 2000
# A school staff member's scope with fewer persons drives the query when no word is narrow.
SCOPE_CAP = 20000
_PERSON, _ACCOUNT = 0, 1  # the two kinds of subject, in this order when all else is equal


@dataclass(frozen=True)
class SearchHit:
    """One person (with its account, if any) or one account without a person."""

    kind: str  # "guardian" | "student" | "staff"
    person_id: int | None
    account_id: int | None
    name: str  # "Family, Given", or the username when there is no person
    sis_person_id: str | None
    username: str | None
    email: str | None
    account_state: str | None  # None: no account yet (e.g. a guardian without an account)
    schools: tuple[str, ...]  # the scope's schools the person or their children attend


@dataclass(frozen=True)
class SearchPage:
    """One page of hits, and whether another follows."""

    hits: list[SearchHit]
    page: int
    per_page: int
    has_next: bool


def search_people(
    session: Session, scope: StaffScope, text: str, page: int = 1, per_page: int = 25
) -> SearchPage:
    """The `page`-th page of the persons and accounts of the scope that match every word of
    `text`; empty text, or text of punctuation only, finds nobody."""
    page = min(max(page, 1), MAX_PAGE)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    words = query_words(text)
    if not words:
        return SearchPage([], page, per_page, has_next=False)
    keys = _Finder(session, scope, words).page((page - 1) * per_page, per_page + 1)
    hits = _hits(session, scope, keys[:per_page])
    return SearchPage(hits, page, per_page, has_next=len(keys) > per_page)


@dataclass(frozen=True)
class _Branch:
    """One table of terms: a person's, or an account's without a person."""

    rank: int
    table: Table
    owner: str  # its subject column


_BRANCHES = (
    _Branch(_PERSON, PersonSearchTerm.__table__, "person_id"),
    _Branch(_ACCOUNT, AccountSearchTerm.__table__, "account_id"),
)


def _scope_sql(scope: StaffScope, branch: _Branch, owner: Any) -> ColumnElement[bool] | None:
    """The subject is in the scope: one of the persons seen through the scope's schools
    (person_search_school, the rule of idp/staff/scope.py kept as rows), or a staff account of
    those schools; None for a district admin. Built once per statement and hashed."""
    if scope.is_district_wide:
        return None
    if not scope.school_ids:
        return false()
    if branch.rank == _ACCOUNT:
        return owner.in_(scope.staff_sql())  # type: ignore[no-any-return]  # owner: a Column
    return or_(owner.in_(_seen_persons(scope)), owner.in_(_staff_persons(scope)))


def _scope_subjects(scope: StaffScope, branch: _Branch) -> Select[Any]:
    """The subjects of the scope, for a school staff member's driven plan."""
    if branch.rank == _ACCOUNT:
        return scope.staff_sql()
    return union(_seen_persons(scope), _staff_persons(scope))  # type: ignore[return-value]


def _seen_persons(scope: StaffScope) -> Select[Any]:
    """Persons enrolled at, or guardians of students enrolled at, the scope's schools."""
    schools = sorted(scope.school_ids or ())
    return select(PersonSearchSchool.person_id).where(PersonSearchSchool.school_id.in_(schools))


def _staff_persons(scope: StaffScope) -> Select[Any]:
    """Persons whose account is staff at the scope's schools (seen as accounts_condition does)."""
    return select(Account.person_id).where(
        Account.id.in_(scope.staff_sql()), Account.person_id.is_not(None)
    )


class _Finder:
    """Chooses the plan of one search and runs it (see the module docstring)."""

    def __init__(self, session: Session, scope: StaffScope, words: list[str]) -> None:
        self._session = session
        self._scope = scope
        # The longest word orders the hits (the first of the longest: the order is the text's).
        self._order_word = max(words, key=len)
        self._words = words
        self._others = [w for w in words if w != self._order_word]

    def page(self, offset: int, limit: int) -> list[tuple[int, int]]:
        """(kind, id) of the subjects of rows offset..offset+limit-1, in order."""
        need = offset + limit
        if self._scope.is_district_wide and not self._others:
            return self._run(offset, limit, lambda b: self._walked(b, need, None))
        counts = self._counts()
        narrowest = min(self._words, key=lambda w: (counts[w], w != self._order_word))
        scope_size = counts.get("", SCOPE_CAP)  # SCOPE_CAP: district-wide, or a wide scope
        if counts[narrowest] <= min(NARROW_TERMS, scope_size):
            return self._run(offset, limit, lambda b: self._driven(b, need, narrowest))
        if not self._others or scope_size >= SCOPE_CAP:
            budget = max(WALK_MIN_TERMS, need * WALK_TERMS_PER_HIT)
            keys = self._run(offset, limit, lambda b: self._walked(b, need, budget))
            if len(keys) == limit:
                return keys
        # The driven plan reads every candidate: of the scope if it is small, else of a word.
        driver = None if scope_size < SCOPE_CAP else narrowest
        return self._run(offset, limit, lambda b: self._driven(b, need, driver))

    def _counts(self) -> dict[str, int]:
        """Each word's person terms, counted up to one past NARROW_TERMS, and under "" the
        persons of a school staff member's scope, up to SCOPE_CAP."""
        terms = PersonSearchTerm.__table__
        word_cap = NARROW_TERMS + 1
        capped = {
            word: (select(terms.c.person_id).where(starts_with(terms.c.term, word)), word_cap)
            for word in self._words
        }
        if not self._scope.is_district_wide:
            capped[""] = (_seen_persons(self._scope), SCOPE_CAP)
        counts = [
            select(func.count()).select_from(rows.limit(cap).subquery()).scalar_subquery()
            for rows, cap in capped.values()
        ]
        row = self._session.execute(select(*counts)).one()
        return dict(zip(capped, (int(count) for count in row), strict=True))

    def _run(self, offset: int, limit: int, plan: Any) -> list[tuple[int, int]]:
        branches = union_all(*(select(plan(b).subquery()) for b in _BRANCHES)).subquery()
        query = (
            select(branches.c.kind, branches.c.id)
            .order_by(branches.c.term, branches.c.sort_key, branches.c.kind, branches.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [(row.kind, row.id) for row in self._session.execute(query)]

    def _walked(self, branch: _Branch, need: int, budget: int | None) -> Select[Any]:
        """The order word's terms in index order (at most `budget`), each kept if it is its
        subject's first match, the subject has the other words and is in the scope: probes
        of the terms' primary key, row by row, so that the walk stops with the page."""
        term, sort_key, owner = (branch.table.c[n] for n in ("term", "sort_key", branch.owner))
        walked = (
            select(owner.label("id"), term, sort_key)
            .where(starts_with(term, self._order_word))
            .order_by(term, sort_key, owner)
            .limit(budget)
            .subquery()
        )
        checks = [_term(branch, walked.c.id, word).is_not(None) for word in self._others]
        scope = _scope_sql(self._scope, branch, walked.c.id)
        earlier = _term(branch, walked.c.id, self._order_word, below=walked.c.term)
        return (
            select(literal(branch.rank).label("kind"), *walked.c)
            .where(*checks, *([] if scope is None else [scope]), earlier.is_(None))
            .order_by(walked.c.term, walked.c.sort_key, walked.c.id)
            .limit(need)
        )

    def _driven(self, branch: _Branch, need: int, driver: str | None) -> Select[Any]:
        """The subjects with every word, found as sets (the `driver` word's terms, or the
        scope, joined with each other word's), then sorted by their first match of the order
        word."""
        term, owner = branch.table.c.term, branch.table.c[branch.owner]
        if driver is None:
            subjects = _scope_subjects(self._scope, branch).subquery()
            found, subject, scope = select(subjects.c[0].label("id")), subjects.c[0], None
        else:
            found = select(owner.label("id")).where(starts_with(term, driver)).distinct()
            subject, scope = owner, _scope_sql(self._scope, branch, owner)
        for word in self._words:
            if word != driver:
                other = branch.table.alias()
                found = found.where(
                    subject.in_(
                        select(other.c[branch.owner]).where(starts_with(other.c.term, word))
                    )
                )
        if scope is not None:
            found = found.where(scope)
        survivors = found.offset(0).subquery()  # a fence: the checks below run per survivor
        first = _term(branch, survivors.c.id, self._order_word, first=True).label("term")
        sort_keys = branch.table.alias()
        sort_key = select(sort_keys.c.sort_key).where(sort_keys.c[branch.owner] == survivors.c.id)
        return (
            select(literal(branch.rank).label("kind"), survivors.c.id, first)
            .add_columns(sort_key.limit(1).scalar_subquery().label("sort_key"))
            .order_by(first, "sort_key", survivors.c.id)
            .limit(need)
        )


def _subjects_with(branch: _Branch, word: str) -> Select[Any]:
    """The subjects with a term that starts with `word`."""
    terms = branch.table.alias()
    return select(terms.c[branch.owner]).where(starts_with(terms.c.term, word))


def _term(
    branch: _Branch, owner: Any, word: str, below: Any = None, first: bool = False
) -> ScalarSelect[Any]:
    """Per row: a term of the subject `owner` that starts with `word` (below `below`), its
    first one if `first`; NULL if none."""
    terms = branch.table.alias()
    conditions = [terms.c[branch.owner] == owner, starts_with(terms.c.term, word)]
    if below is not None:
        conditions.append(terms.c.term < below)
    found = select(func.min(terms.c.term) if first else terms.c.term).where(*conditions)
    return (found if first else found.limit(1)).scalar_subquery()


def _hits(session: Session, scope: StaffScope, keys: list[tuple[int, int]]) -> list[SearchHit]:
    """The hits of these subjects, in this order. The page's persons and accounts are checked
    against the scope's own rule once more (idp/staff/scope.py): whatever the index says,
    another school's person never reaches the desk."""
    person_ids = [key for kind, key in keys if kind == _PERSON]
    lone_ids = [key for kind, key in keys if kind == _ACCOUNT]
    columns = (Person.id, Person.role, Person.given_name, Person.family_name, Person.sis_person_id)
    seen = select(*columns).where(Person.id.in_(person_ids), _rule(scope, Person.id))
    persons = {row.id: row for row in session.execute(seen)}
    lone_seen: ColumnElement[bool] = Account.id.in_(lone_ids)
    if not scope.is_district_wide:
        lone_seen &= Account.id.in_(scope.staff_sql())
    accounts = session.execute(
        select(Account.id, Account.person_id, Account.kind, Account.username, Account.email)
        .add_columns(Account.state)
        .where(or_(Account.person_id.in_(list(persons)), lone_seen))
    ).all()
    chosen = _chosen_accounts(accounts, persons)
    lone = {row.id: row for row in accounts if row.id in lone_ids}
    staff_ids = [a.id for a in (*chosen.values(), *lone.values()) if a.kind == "staff"]
    schools = _schools(session, scope, list(persons), staff_ids)
    hits = []
    for kind, key in keys:
        if kind == _PERSON and key in persons:
            hits.append(_hit(persons[key], chosen.get(key), schools))
        elif kind == _ACCOUNT and key in lone:
            hits.append(_hit(None, lone[key], schools))
    return hits


def _rule(scope: StaffScope, person_id: Any) -> ColumnElement[bool]:
    """The person is within the scope by idp/staff/scope.py itself (or has a staff account
    of the scope's schools, as accounts_condition says)."""
    if scope.is_district_wide:
        return true()
    return or_(scope.persons_condition(person_id), person_id.in_(_staff_persons(scope)))


def _chosen_accounts(accounts: Sequence[Any], persons: dict[int, Any]) -> dict[int, Any]:
    """Per person, the account the desk shows: a live one before a cancelled or deleted one,
    one of the person's own kind first, then the newest."""
    chosen: dict[int, Any] = {}
    for account in accounts:
        person = persons.get(account.person_id)
        if person is None:
            continue

        def rank(row: Any, role: str = person.role) -> tuple[bool, bool, int]:
            return (row.state not in RELEASED_STATES, row.kind == role, row.id)

        best = chosen.get(person.id)
        if best is None or rank(account) > rank(best):
            chosen[person.id] = account
    return chosen


def _hit(person: Any, account: Any, schools: dict[tuple[int, int], list[str]]) -> SearchHit:
    """A person with the account the desk shows (or none), or an account without a person."""
    owners = [(_PERSON, person.id)] if person is not None else []
    owners += [(_ACCOUNT, account.id)] if account is not None else []
    alone = account.username or account.email or "" if person is None else ""
    return SearchHit(
        kind=person.role if person is not None else account.kind,
        person_id=person.id if person is not None else None,
        account_id=account.id if account is not None else None,
        name=f"{person.family_name}, {person.given_name}" if person is not None else alone,
        sis_person_id=person.sis_person_id if person is not None else None,
        username=account.username if account is not None else None,
        email=account.email if account is not None else None,
        account_state=account.state if account is not None else None,
        schools=tuple(sorted({name for owner in owners for name in schools.get(owner, ())})),
    )


def _schools(
    session: Session, scope: StaffScope, person_ids: list[int], staff_ids: list[int]
) -> dict[tuple[int, int], list[str]]:
    """School names per subject: where a person is enrolled or their children are (the
    index's person_search_school), where a staff account works; for school staff only their
    own schools (another school's name would tell them about a person they may not see)."""
    seen = PersonSearchSchool
    persons = (
        select(literal(_PERSON).label("kind"), seen.person_id.label("owner"), School.name)
        .join(School, School.id == seen.school_id)
        .where(seen.person_id.in_(person_ids))
    )
    works = (
        select(literal(_ACCOUNT).label("kind"), StaffAssignment.account_id, School.name)
        .join(School, School.id == StaffAssignment.school_id)
        .where(StaffAssignment.account_id.in_(staff_ids))
    )
    if scope.school_ids is not None:
        visible = sorted(scope.school_ids)
        persons, works = (query.where(School.id.in_(visible)) for query in (persons, works))
    found: dict[tuple[int, int], list[str]] = {}
    for row in session.execute(union_all(persons, works)):
        found.setdefault((row.kind, row.owner), []).append(row.name)
    return found
