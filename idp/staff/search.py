"""Find a person at the staff desk (issue 16.3): guardians, students and staff by name, Person
ID (a student's student ID), username or email; every word of the text is a prefix of one of
the person's terms (idp/staff/search_models.py), compared without case or accents.

Only the scope's persons are found (idp/staff/scope.py, issue 16.2): the scope is part of the
SQL, so another school's person never reaches Python.

The order is that of the index, so that the first page of "ma" among a million persons costs a
page, not a million: by the term the longest word matched (its first one, if several), then the
family and given name (folded), then the id; for a whole name, "garcia" or "jose", that is simply
family name, given name, id. Each page is one statement (LIMIT per_page+1 after OFFSET), over one
of two plans, chosen by counting each word's terms (up to a cap) first:

- driven: a narrow word (a Person ID, an email, a rare name, a miss), or for school staff their
  scope, gives the candidates; the others are checked on each, then sorted;
- walked: for a district admin and broad words only, the longest word's terms are read in index
  order, each checked against the other words, until the page is full; a walk that reads more
  terms than a page's worth without filling it (two common names rarely together) gives way to
  the driven plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    false,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from idp.accounts.models import RELEASED_STATES, Account
from idp.roster.models import Enrollment, Person, Relationship, School
from idp.staff.models import StaffAssignment
from idp.staff.scope import StaffScope
from idp.staff.search_models import (
    AccountSearchTerm,
    PersonSearchTerm,
    query_words,
    starts_with,
)

MAX_PAGE = 400
MAX_PER_PAGE = 100
# A word with at most this many terms drives the query (see the module docstring).
NARROW_TERMS = 5000
# Counting a word's terms stops here.
COUNT_CAP = 20000
# A walk reads at most this many terms per hit it must find (and at least WALK_MIN_TERMS).
WALK_TERMS_PER_HIT = 40
WALK_MIN_TERMS = 2000
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
    """The scope (idp/staff/scope.py) as a test on each subject, correlated so that checking
    one costs a few index probes; None for a district admin."""
    if scope.is_district_wide:
        return None
    if not scope.school_ids:
        return false()
    if branch.rank == _ACCOUNT:
        return owner.in_(scope.staff_sql())  # type: ignore[no-any-return]  # owner: a Column
    return or_(
        scope.students_sql().where(Enrollment.person_id == owner).exists(),
        scope.guardians_sql().where(Relationship.guardian_id == owner).exists(),
        owner.in_(_staff_persons(scope)),
    )


def _scope_subjects(scope: StaffScope, branch: _Branch) -> Select[Any]:
    """The subjects of the scope, for a school staff member's driven plan."""
    if branch.rank == _ACCOUNT:
        return scope.staff_sql()
    return union(scope.students_sql(), scope.guardians_sql(), _staff_persons(scope))  # type: ignore[return-value]


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
        self._words = words
        # The longest word orders the hits (the first of the longest: the order is the text's).
        self._order_word = max(words, key=len)
        self._others = [w for w in words if w != self._order_word]

    def page(self, offset: int, limit: int) -> list[tuple[int, int]]:
        """(kind, id) of the subjects of rows offset..offset+limit-1, in order."""
        need = offset + limit
        counts = self._counts()
        narrowest = min(self._words, key=lambda w: (counts[w], w != self._order_word))
        if counts[narrowest] <= NARROW_TERMS:
            return self._run(offset, limit, lambda b: self._driven(b, need, narrowest))
        if not self._scope.is_district_wide:
            return self._run(offset, limit, lambda b: self._driven(b, need, None))
        budget = max(WALK_MIN_TERMS, need * WALK_TERMS_PER_HIT)
        keys = self._run(offset, limit, lambda b: self._walked(b, need, budget))
        is_complete = counts[self._order_word] < min(budget, COUNT_CAP)
        if len(keys) == limit or is_complete:
            return keys
        return self._run(offset, limit, lambda b: self._driven(b, need, narrowest))

    def _counts(self) -> dict[str, int]:
        terms = PersonSearchTerm.__table__
        counts = [
            select(func.count())
            .select_from(
                select(terms.c.person_id)
                .where(starts_with(terms.c.term, word))
                .limit(COUNT_CAP)
                .subquery()
            )
            .scalar_subquery()
            .label(f"w{number}")
            for number, word in enumerate(self._words)
        ]
        row = self._session.execute(select(*counts)).one()
        return {word: int(row._mapping[f"w{n}"]) for n, word in enumerate(self._words)}

    def _run(self, offset: int, limit: int, plan: Any) -> list[tuple[int, int]]:
        branches = union_all(*(select(plan(b).subquery()) for b in _BRANCHES)).subquery()
        query = (
            select(branches.c.kind, branches.c.id)
            .order_by(branches.c.term, branches.c.sort_key, branches.c.kind, branches.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [(row.kind, row.id) for row in self._session.execute(query)]

    def _matches_others(self, branch: _Branch, owner: Any) -> list[ColumnElement[bool]]:
        checks: list[ColumnElement[bool]] = []
        for word in self._others:
            other = branch.table.alias()
            checks.append(
                select(other.c[branch.owner])
                .where(other.c[branch.owner] == owner, starts_with(other.c.term, word))
                .exists()
            )
        return checks

    def _walked(self, branch: _Branch, need: int, budget: int) -> Select[Any]:
        """The order word's terms in index order (at most `budget`), each kept if it is its
        subject's first match and the subject matches the other words and the scope."""
        term, sort_key, owner = (branch.table.c[n] for n in ("term", "sort_key", branch.owner))
        walked = (
            select(owner.label("id"), term, sort_key)
            .where(starts_with(term, self._order_word))
            .order_by(term, sort_key, owner)
            .limit(budget)
            .subquery()
        )
        earlier = branch.table.alias()
        first_match = (
            select(earlier.c[branch.owner])
            .where(
                earlier.c[branch.owner] == walked.c.id,
                earlier.c.term >= self._order_word,
                earlier.c.term < walked.c.term,
            )
            .exists()
        )
        conditions = [~first_match, *self._matches_others(branch, walked.c.id)]
        scope = _scope_sql(self._scope, branch, walked.c.id)
        if scope is not None:
            conditions.append(scope)
        return (
            select(
                literal(branch.rank).label("kind"), walked.c.id, walked.c.term, walked.c.sort_key
            )
            .where(*conditions)
            .order_by(walked.c.term, walked.c.sort_key, walked.c.id)
            .limit(need)
        )

    def _driven(self, branch: _Branch, need: int, driver: str | None) -> Select[Any]:
        """Subjects of the `driver` word's terms (None: of the scope), checked against every
        word and the scope, in order of their first match of the order word."""
        term, sort_key, owner = (branch.table.c[n] for n in ("term", "sort_key", branch.owner))
        conditions = [starts_with(term, self._order_word), *self._matches_others(branch, owner)]
        if driver is None:
            conditions.append(owner.in_(_scope_subjects(self._scope, branch)))
        else:
            if driver != self._order_word:
                drivers = branch.table.alias()
                conditions.append(
                    owner.in_(
                        select(drivers.c[branch.owner]).where(starts_with(drivers.c.term, driver))
                    )
                )
            scope = _scope_sql(self._scope, branch, owner)
            if scope is not None:
                conditions.append(scope)
        first_term = func.min(term).label("term")
        return (
            select(
                literal(branch.rank).label("kind"),
                owner.label("id"),
                first_term,
                func.min(sort_key).label("sort_key"),
            )
            .where(*conditions)
            .group_by(owner)
            .order_by(first_term, func.min(sort_key), owner)
            .limit(need)
        )


def _hits(session: Session, scope: StaffScope, keys: list[tuple[int, int]]) -> list[SearchHit]:
    """The hits of these subjects, in this order."""
    person_ids = [key for kind, key in keys if kind == _PERSON]
    lone_ids = [key for kind, key in keys if kind == _ACCOUNT]
    persons = {
        row.id: row
        for row in session.execute(
            select(
                Person.id, Person.role, Person.given_name, Person.family_name, Person.sis_person_id
            ).where(Person.id.in_(person_ids))
        )
    }
    columns = (Account.id, Account.person_id, Account.kind, Account.username, Account.email)
    accounts = session.execute(
        select(*columns, Account.state).where(
            or_(Account.person_id.in_(person_ids), Account.id.in_(lone_ids))
        )
    ).all()
    chosen = _chosen_accounts(accounts, persons)
    lone = {row.id: row for row in accounts if row.id in lone_ids}
    staff_ids = [a.id for a in (*chosen.values(), *lone.values()) if a.kind == "staff"]
    schools = _schools(session, scope, person_ids, staff_ids)
    hits = []
    for kind, key in keys:
        if kind == _PERSON and key in persons:
            hits.append(_hit(persons[key], chosen.get(key), schools))
        elif kind == _ACCOUNT and key in lone:
            hits.append(_hit(None, lone[key], schools))
    return hits


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
    """School names per subject: where a person is enrolled, where their children are, where a
    staff account works; for school staff only their own schools (another school's name would
    tell them about a person they may not see)."""
    enrolled = select(
        literal(_PERSON).label("kind"), Enrollment.person_id.label("owner"), School.name
    )
    enrolled = enrolled.join(School, School.id == Enrollment.school_id).where(
        Enrollment.person_id.in_(person_ids), Enrollment.is_active.is_(True)
    )
    children = (
        select(literal(_PERSON).label("kind"), Relationship.guardian_id.label("owner"), School.name)
        .join(Enrollment, Enrollment.person_id == Relationship.student_id)
        .join(School, School.id == Enrollment.school_id)
        .where(
            Relationship.guardian_id.in_(person_ids),
            Relationship.is_active.is_(True),
            Enrollment.is_active.is_(True),
        )
    )
    works = (
        select(
            literal(_ACCOUNT).label("kind"), StaffAssignment.account_id.label("owner"), School.name
        )
        .join(School, School.id == StaffAssignment.school_id)
        .where(StaffAssignment.account_id.in_(staff_ids))
    )
    if scope.school_ids is not None:
        visible = sorted(scope.school_ids)
        enrolled, children, works = (
            q.where(School.id.in_(visible)) for q in (enrolled, children, works)
        )
    found: dict[tuple[int, int], list[str]] = {}
    for row in session.execute(union_all(enrolled, children, works)):
        found.setdefault((row.kind, row.owner), []).append(row.name)
    return found
