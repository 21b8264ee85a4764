"""The staff desk's search index: the normalized terms of every person and account (issue 16.3).

`person_search_term` holds the terms of each roster Person (given and family names, the Person
ID) and of its accounts (username, email); `account_search_term` those of each account without
a Person. The terms are compared byte by byte (`COLLATE "C"` on PostgreSQL, BINARY on SQLite),
so a prefix is one range of the (term, sort_key, id) index. `person_search_school` holds the
schools through which the desk sees each person (enrolled there, or the guardian of a student
enrolled there: the rule of idp/staff/scope.py, kept as rows for the search of school staff).
See idp/staff/search_models.py.

The backfill reads the existing persons and accounts in batches of 5,000 (keyset on id), so
memory stays flat whatever the table size. On PostgreSQL the rows go in with COPY and the
indexes are built once, after the load (a million persons: about 3.6 million terms).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 09:00:00.000000

"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_BATCH = 5000
TERM_LENGTH = 320
SORT_KEY_LENGTH = 200

# Frozen copy of idp.staff.search_models (fold, name_terms, identifier_term and the sort keys)
# as of this revision.
_LATIN = str.maketrans(
    {"đ": "d", "ð": "d", "ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "þ": "th", "\u0131": "i"}
)
_APOSTROPHES = str.maketrans(dict.fromkeys("'\u2019\u02bc`", None))
_NAME_SEPARATORS = re.compile(r"[^\w-]+")


def fold(text):
    if text.isascii():
        return text.lower().translate(_APOSTROPHES)
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return plain.translate(_LATIN).translate(_APOSTROPHES)


def name_terms(name, cache={}):  # noqa: B006 - a deliberate memo: names repeat
    if name not in cache:
        terms = set()
        for word in _NAME_SEPARATORS.split(fold(name)):
            word = word.strip("-_")[:TERM_LENGTH]
            if word:
                terms.add(word)
                terms.update(part for part in word.split("-") if part and "-" in word)
        if len(cache) > 65536:
            cache.clear()
        cache[name] = frozenset(terms)
    return cache[name]


def identifier_term(value):
    folded = fold(value)
    if not folded.isprintable():
        folded = "".join(char for char in folded if char.isprintable())
    return "".join(folded.split())[:TERM_LENGTH]


def _printable(text):
    if not text.isprintable():
        text = "".join(char if char.isprintable() else " " for char in text)
    return " ".join(text.split())


def person_sort_key(family_name, given_name):
    return _printable(f"{fold(family_name)} {fold(given_name)}")[:SORT_KEY_LENGTH]


def account_sort_key(username, email):
    return identifier_term(username or email or "")[:SORT_KEY_LENGTH]


def _bytewise(length):
    return sa.String(length).with_variant(sa.String(length, collation='C'), 'postgresql')


def _create_tables(is_postgresql):
    for table, owner, referred in (
        ('person_search_term', 'person_id', 'person'),
        ('account_search_term', 'account_id', 'account'),
    ):
        columns = [
            sa.Column(owner, sa.Integer(), nullable=False),
            sa.Column('term', _bytewise(TERM_LENGTH), nullable=False),
            sa.Column('sort_key', _bytewise(SORT_KEY_LENGTH), nullable=False),
            sa.ForeignKeyConstraint([owner], [f'{referred}.id'],
                                    name=op.f(f'fk_{table}_{owner}_{referred}'),
                                    ondelete='CASCADE'),
        ]
        if not is_postgresql:  # SQLite cannot add a primary key later
            columns.append(sa.PrimaryKeyConstraint(owner, 'term', name=op.f(f'pk_{table}')))
        op.create_table(table, *columns)


_VISIBLE = (
    'INSERT INTO person_search_school (person_id, school_id)'
    ' SELECT person_id, school_id FROM enrollment WHERE is_active'
    ' UNION SELECT r.guardian_id, e.school_id FROM relationship r'
    ' JOIN enrollment e ON e.person_id = r.student_id WHERE r.is_active AND e.is_active'
)


def _create_schools():
    op.create_table('person_search_school',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'],
                            name=op.f('fk_person_search_school_school_id_school'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'],
                            name=op.f('fk_person_search_school_person_id_person'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_id', 'person_id', name=op.f('pk_person_search_school'))
    )
    op.execute(_VISIBLE)
    op.create_index('ix_person_search_school_person', 'person_search_school',
                    ['person_id', 'school_id'], unique=False)


def _create_indexes(is_postgresql):
    for table, owner in (('person_search_term', 'person_id'),
                         ('account_search_term', 'account_id')):
        if is_postgresql:
            op.create_primary_key(op.f(f'pk_{table}'), table, [owner, 'term'])
        op.create_index(f'ix_{table}_walk', table, ['term', 'sort_key', owner], unique=False)


def _person_rows(person, accounts):
    terms = set(name_terms(person.given_name) | name_terms(person.family_name))
    terms.add(identifier_term(person.sis_person_id))
    for account in accounts:
        terms.update(identifier_term(v) for v in (account.username, account.email) if v)
    sort_key = person_sort_key(person.family_name, person.given_name)
    return [(person.id, term, sort_key) for term in sorted(terms) if term]


def _person_batches(connection):
    persons = sa.text(
        'SELECT id, given_name, family_name, sis_person_id FROM person'
        ' WHERE id > :after ORDER BY id LIMIT :batch'
    )
    accounts = sa.text(
        'SELECT person_id, username, email FROM account WHERE person_id >= :low'
        ' AND person_id <= :high AND (username IS NOT NULL OR email IS NOT NULL)'
    )
    after = 0
    while True:
        batch = connection.execute(persons, {'after': after, 'batch': _BATCH}).fetchall()
        if not batch:
            return
        after = batch[-1].id
        linked = {}
        for row in connection.execute(accounts, {'low': batch[0].id, 'high': after}):
            linked.setdefault(row.person_id, []).append(row)
        yield [row for p in batch for row in _person_rows(p, linked.get(p.id, ()))]


def _account_batches(connection):
    accounts = sa.text(
        'SELECT id, username, email FROM account WHERE id > :after AND person_id IS NULL'
        ' AND (username IS NOT NULL OR email IS NOT NULL) ORDER BY id LIMIT :batch'
    )
    after = 0
    while True:
        batch = connection.execute(accounts, {'after': after, 'batch': _BATCH}).fetchall()
        if not batch:
            return
        after = batch[-1].id
        yield [
            (a.id, term, account_sort_key(a.username, a.email))
            for a in batch
            for term in sorted({identifier_term(v) for v in (a.username, a.email) if v})
            if term
        ]


def _load(connection, table, owner, batches):
    if connection.dialect.name == 'postgresql':
        cursor = connection.connection.driver_connection.cursor()
        # One COPY per batch: the connection reads the next batch between two of them.
        for rows in batches:
            with cursor.copy(f'COPY {table} ({owner}, term, sort_key) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        return
    insert = sa.text(f'INSERT INTO {table} ({owner}, term, sort_key) VALUES (:owner, :term, :key)')
    for rows in batches:
        if rows:
            connection.execute(insert, [{'owner': o, 'term': t, 'key': k} for o, t, k in rows])


def upgrade():
    connection = op.get_bind()
    is_postgresql = connection.dialect.name == 'postgresql'
    _create_tables(is_postgresql)
    _load(connection, 'person_search_term', 'person_id', _person_batches(connection))
    _load(connection, 'account_search_term', 'account_id', _account_batches(connection))
    _create_indexes(is_postgresql)
    _create_schools()


def downgrade():
    op.drop_index('ix_person_search_school_person', table_name='person_search_school')
    op.drop_table('person_search_school')
    op.drop_index('ix_account_search_term_walk', table_name='account_search_term')
    op.drop_table('account_search_term')
    op.drop_index('ix_person_search_term_walk', table_name='person_search_term')
    op.drop_table('person_search_term')
