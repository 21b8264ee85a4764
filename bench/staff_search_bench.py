#!/usr/bin/env python3
"""The staff desk's "Find a person" over a district-sized roster (a script, not a test).

Creates a throwaway PostgreSQL database on 127.0.0.1:5432 (trust auth) and migrates it to 0012,
fills it in SQL (generate_series) with `--persons` persons (two in five students, the rest
guardians) with accented names drawn from a skewed list of common names (the most common family
name is about 2% of persons, given name 3%) and a long tail, 100 schools (two siblings per
school, one student in 33 at a second school), two guardians per student, accounts for two in
five guardians (username, email) and half the students, and 2,000 staff accounts (a secretary
per school, 20 district admins). Then migrates to the head: 0013 backfills the search index
(timed). Then times `search_people` for a district admin and a school secretary, each query
`--runs` times after two warm-up runs, and prints p50, p95 and max in ms, the hits found, the
plans of a few (EXPLAIN ANALYZE; `--explain-all`: of every one), and the index sizes; drops the
database.

    .venv/bin/python bench/staff_search_bench.py                    # 1,000,000 persons
    .venv/bin/python bench/staff_search_bench.py --persons 100000 --runs 10
    .venv/bin/python bench/staff_search_bench.py --keep-db          # keep it for EXPLAIN

See bench/README.md ("Staff search benchmark").
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask_migrate
import psycopg
from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from idp import create_app
from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.config import Settings
from idp.extensions import db
from idp.staff.scope import StaffScope, staff_scope
from idp.staff.search import search_people

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = str(ROOT / "idp" / "migrations")
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
SCHOOLS = 100


def _words(text: str) -> list[str]:
    return text.split()


FAMILY_NAMES = _words(
    "García Martínez Hernández López González Rodríguez Pérez Sánchez Ramírez Flores Nguyễn"
    " Smith Johnson Williams Brown Jones Miller Davis Mohamed Ahmed Gómez Díaz Muñoz Jiménez"
    " Álvarez Gutiérrez Ruiz Vásquez Castillo Morales Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng"
    " Bùi Đỗ Hồ Ngô Dương Lý Wilson Anderson Taylor Thomas Moore Jackson Martin Lee Thompson"
    " White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Abdi Hassan Ali"
    " Farah Omar Warsame Hussein Yusuf Osman Abdullahi Müller Schröder Lefèvre Østergaard Björk"
    " Núñez Peña Ortiz Cruz Reyes Al-Hassan El-Amin O'Brien McDonald Kowalski Nowak Ivanov Kim"
    " Park Chen Wang Li Zhang Liu Singh Patel Khan Haddad Saleh Mansour"
)
GIVEN_NAMES = _words(
    "María José Juan Luis Carlos Ana Sofía Mateo Santiago Valentina Camila Isabella Diego"
    " Daniel Sebastián Lucía Mariana Gabriel Andrés Ximena Minh Anh Thảo Linh Hương Quang Đức"
    " Tuấn Ngọc Phương Huy Bảo Khánh Mohamed Ahmed Abdi Hodan Faadumo Ayaan Khadra Amina Fatima"
    " Omar Yusuf James John Robert Michael William David Richard Joseph Thomas Charles Mary"
    " Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Emma Olivia Ava Mia"
    " Amelia Harper Evelyn Abigail Emily Ella Liam Noah Oliver Elijah Lucas Mason Logan Ethan"
    " Aiden Jackson Zoë Chloé Renée Bérénice Jürgen Søren Mikaël Inés Ramón Jesús Aaliyah Layla"
    " Nour Yasmin Hamza Bilal Ibrahim Mustafa Zainab Maryam Wei Jun Hao Mei Priya Arjun Ananya"
    " Rohan Seo-yeon Min-jun"
)
# Long-tail names: every syllable combination (32 x 30 x 15 = 14,400).
SYLLABLES = (
    _words(
        "Ka Ro Be Sa Mi To Le Da Fe Ga Ha Jo Lu Ma Ne Pa Ri Si Ta Vi Wa Ya Za Bo Ce Di Em Fa Gi"
        " Ho Ib Ki"
    ),
    _words(
        "ran mel tis vor lan dre ber cos fin gar hol jen kel lor mon nor pel quin ros sten tal"
        " vel wen xan yor zel bri cha dri fro"
    ),
    _words("son ez ini ski ova berg ton ley man á é ić ović ard ens"),
)

FILL = [
    "SET max_parallel_workers_per_gather = 0",  # one process: setseed makes the fill repeatable
    "SELECT setseed(0.42)",
    """INSERT INTO school (sis_id, sourced_id, name, is_active)
       SELECT 'SCH' || lpad(n::text, 3, '0'), 'org-' || n, 'School ' || n, true
       FROM generate_series(1, :schools) n""",
    """CREATE TEMP TABLE bench_names AS
       SELECT CAST(:family AS text[]) AS family, CAST(:given AS text[]) AS given,
              ARRAY(SELECT a || b || c FROM unnest(CAST(:s1 AS text[])) a,
                    unnest(CAST(:s2 AS text[])) b, unnest(CAST(:s3 AS text[])) c) AS tail""",
    # 60% of family names and 75% of given names from the skewed lists, the rest from the tail;
    # one in ten has two given names, one in twenty a hyphenated family name.
    """INSERT INTO person (id, sis_person_id, sourced_id, role, given_name, family_name,
                           birth_date, is_active, updated_at)
       SELECT n, CASE WHEN n <= :students THEN '1' ELSE '2' END || lpad(n::text, 7, '0'),
              'u-' || n, CASE WHEN n <= :students THEN 'student' ELSE 'guardian' END,
              CASE WHEN random() < 0.75
                   THEN given[1 + floor(cardinality(given) * power(random(), 1.4))::int]
                   ELSE tail[1 + floor(cardinality(tail) * random())::int] END
              || CASE WHEN random() < 0.1
                      THEN ' ' || given[1 + floor(cardinality(given) * random())::int]
                      ELSE '' END,
              CASE WHEN random() < 0.6
                   THEN family[1 + floor(cardinality(family) * power(random(), 1.4))::int]
                   ELSE tail[1 + floor(cardinality(tail) * random())::int] END
              || CASE WHEN random() < 0.05
                      THEN '-' || family[1 + floor(cardinality(family) * random())::int]
                      ELSE '' END,
              CASE WHEN n <= :students THEN date '2010-01-01' + n % 4000 END, true, :now
       FROM bench_names, generate_series(1, :persons) n""",
    "SELECT setval(pg_get_serial_sequence('person', 'id'), :persons)",
    """INSERT INTO enrollment (person_id, school_id, grade, is_active)
       SELECT n, 1 + ((n - 1) / 2) % :schools, lpad((n % 12 + 1)::text, 2, '0'), true
       FROM generate_series(1, :students) n""",
    """INSERT INTO enrollment (person_id, school_id, grade, is_active)
       SELECT n, 1 + ((n - 1) / 2 + 37) % :schools, '09', true
       FROM generate_series(33, :students, 33) n""",
    # Students 2k-1 and 2k share a guardian; each also has one of their own.
    """INSERT INTO relationship (guardian_id, student_id, kind, is_legal_guardian, is_active)
       SELECT g, n, 'parent', true, true FROM (
           SELECT n, :students + 3 * ((n - 1) / 2) + CASE WHEN n % 2 = 1 THEN 1 ELSE 3 END AS g
           FROM generate_series(1, :students) n) s WHERE g <= :persons
       UNION ALL
       SELECT g, n, 'guardian', true, true FROM (
           SELECT n, :students + 3 * ((n - 1) / 2) + 2 AS g
           FROM generate_series(1, :students) n) s WHERE g <= :persons""",
    # Usernames and emails from the names, accents dropped as people type them.
    """INSERT INTO account (sub, kind, state, username, email, email_key, person_id, locale,
                           communication_channel, communication_topics, created_at,
                           state_changed_at)
       SELECT md5('g' || id), 'guardian',
              CASE WHEN id % 17 = 0 THEN 'disabled' WHEN id % 23 = 0 THEN 'cancelled'
                   ELSE 'active' END,
              left(plain_given, 10) || id, email, lower(email), id, 'en', 'email', '[]',
              :now, :now
       FROM (SELECT id, regexp_replace(lower(unaccent(given_name)), '[^a-z]', '', 'g')
                        AS plain_given,
                    regexp_replace(lower(unaccent(family_name)), '[^a-z]', '', 'g') || '.'
                        || id || '@' || (ARRAY['gmail.com', 'yahoo.com', 'hotmail.com',
                        'outlook.com', 'icloud.com'])[1 + id % 5] AS email
             FROM person WHERE role = 'guardian' AND id % 5 IN (0, 2)) g""",
    """INSERT INTO account (sub, kind, state, person_id, locale, communication_channel,
                           communication_topics, created_at, state_changed_at)
       SELECT md5('s' || id), 'student', 'active', id, 'en', 'email', '[]', :now, :now
       FROM person WHERE role = 'student' AND id % 2 = 0""",
    """INSERT INTO account (sub, kind, state, username, email, email_key, locale,
                           communication_channel, communication_topics, created_at,
                           state_changed_at)
       SELECT md5('t' || n), 'staff', 'active', 'staff' || lpad(n::text, 5, '0'),
              'staff' || n || '@district.example', 'staff' || n || '@district.example', 'en',
              'email', '[]', :now, :now
       FROM generate_series(1, 2000) n""",
    """INSERT INTO staff_assignment (account_id, school_id, role)
       SELECT id, CASE WHEN n <= 20 THEN NULL ELSE 1 + n % :schools END,
              CASE WHEN n <= 20 THEN 'district_admin' ELSE 'secretary' END
       FROM (SELECT id, substr(username, 6)::int AS n FROM account WHERE kind = 'staff') s""",
]


def create_database() -> str:
    """A fresh database (with unaccent, for the fill's usernames only); its name."""
    name = f"idp_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(_dsn(name), autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    return name


def drop_database(name: str) -> None:
    """Remove the benchmark database."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _dsn(name: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def settings(name: str, instance: Path) -> Settings:
    """Test-like settings on the benchmark database."""
    return Settings(
        env="test",
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
        secret_key="bench-secret-key-" + "x" * 32,
        key_encryption_key="x9Qy0U2nJm7zcY3bXb6pG3tqE1C7v8r5H4kLw2sNfZo=",
        issuer="http://localhost",
        instance_path=instance,
        policy_dir=ROOT / "policies",
    )


def fill(persons: int) -> float:
    """The district, in SQL; seconds taken."""
    started = time.perf_counter()
    params = {
        "persons": persons,
        "students": persons * 2 // 5,
        "schools": SCHOOLS,
        "now": NOW,
        "family": FAMILY_NAMES,
        "given": GIVEN_NAMES,
        "s1": SYLLABLES[0],
        "s2": SYLLABLES[1],
        "s3": SYLLABLES[2],
    }
    for statement in FILL:
        clause = text(statement)
        db.session.execute(clause, {k: v for k, v in params.items() if f":{k}" in statement})
    db.session.commit()
    return time.perf_counter() - started


def vacuum(name: str) -> None:
    """VACUUM ANALYZE, as autovacuum would have by then (statistics, visibility map)."""
    with psycopg.connect(_dsn(name), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def scope_of(username: str) -> StaffScope:
    """The desk scope of a staff account."""
    account = db.session.execute(db.select(Account).filter_by(username=username)).scalar_one()
    scope = staff_scope(db.session, account)
    assert scope is not None
    return scope


def queries(secretary: StaffScope) -> list[tuple[str, str, int]]:
    """(label, text, page): the same for both scopes; the identifiers are of a guardian of a
    student of the secretary's school, so both find it."""
    sample = (
        db.session.execute(
            text(
                "SELECT p.sis_person_id, a.email FROM relationship r"
                " JOIN enrollment e ON e.person_id = r.student_id"
                " JOIN person p ON p.id = r.guardian_id JOIN account a ON a.person_id = p.id"
                " WHERE e.school_id = :school AND a.email IS NOT NULL ORDER BY p.id LIMIT 1"
            ),
            {"school": min(secretary.school_ids or {1})},
        )
        .one()
        ._mapping
    )
    return [
        ("prefix, 2 letters", "ma", 1),
        ("prefix, 2 letters, page 10", "ma", 10),
        ("prefix, 3 letters", "gar", 1),
        ("prefix, 4 letters", "nguy", 1),
        ("family name", "garcia", 1),
        ("accented given name", "José", 1),
        ("Person ID", sample["sis_person_id"], 1),
        ("Person ID prefix", sample["sis_person_id"][:-1], 1),
        ("email", sample["email"], 1),
        ("email prefix", sample["email"].split("@")[0], 1),
        ("two words", "maria garcia", 1),
        ("two words, prefixes", "jo ng", 1),
        ("two words, rare pair", "mohamed nguyen", 1),
        ("a miss", "zzyzx", 1),
    ]


@contextmanager
def recorded() -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) run inside the block."""
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def time_query(scope: StaffScope, search: str, page: int, runs: int) -> tuple[list[float], int]:
    """Milliseconds of each run (after two warm-up runs) and the hits of a page."""
    for _ in range(2):
        search_people(db.session, scope, search, page=page)
    times = []
    hits = 0
    for _ in range(runs):
        started = time.perf_counter()
        found = search_people(db.session, scope, search, page=page)
        times.append((time.perf_counter() - started) * 1000)
        hits = len(found.hits)
        db.session.rollback()  # each search its own transaction, as a request's
    return times, hits


def explain(scope: StaffScope, search: str, page: int) -> list[str]:
    """EXPLAIN ANALYZE of the statements one search runs (the hits' look-ups left out)."""
    with recorded() as statements:
        search_people(db.session, scope, search, page=page)
    lines = []
    connection = db.session.connection()
    for statement, parameters in statements:
        if "search_term" not in statement:
            continue
        plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters)
        lines.extend(row[0] for row in plan)
        lines.append("")
    db.session.rollback()
    return lines


# The queries whose plans are printed (--explain-all: every one).
EXPLAINED = ("prefix, 2 letters", "Person ID", "two words")


def report(runs: int, verbose: bool) -> list[float]:
    """Time every query for both scopes; print the table and some plans; the p95s."""
    scopes = {"district admin": scope_of("staff00001"), "secretary": scope_of("staff00117")}
    p95s = []
    print(f"{'scope':15} {'query':28} {'text':28} {'hits':>4} {'p50':>7} {'p95':>7} {'max':>7}")
    for scope_name, scope in scopes.items():
        for label, search, page in queries(scopes["secretary"]):
            times, hits = time_query(scope, search, page, runs)
            p95 = (
                statistics.quantiles(times, n=20, method="inclusive")[18]
                if len(times) > 1
                else times[0]
            )
            p95s.append(p95)
            print(
                f"{scope_name:15} {label:28} {search[:28]:28} {hits:>4}"
                f" {statistics.median(times):7.1f} {p95:7.1f} {max(times):7.1f}"
            )
    for scope_name, scope in scopes.items():
        for label, search, page in queries(scopes["secretary"]):
            if verbose or label in EXPLAINED:
                print(f"\n=== {scope_name}: {label} ({search!r}, page {page})")
                print("\n".join(explain(scope, search, page)))
    return p95s


def sizes() -> None:
    """Rows and size of the search tables and their indexes."""
    for table in ("person_search_term", "account_search_term"):
        row = db.session.execute(
            text(
                f"SELECT count(*) AS n, pg_size_pretty(pg_table_size('{table}')) AS heap,"  # noqa: S608 - one of the two table names above
                f" pg_size_pretty(pg_indexes_size('{table}')) AS indexes FROM {table}"
            )
        ).one()
        print(f"{table}: {row.n:,} rows, table {row.heap}, indexes {row.indexes}")
    for column in ("family_name", "given_name"):
        row = db.session.execute(
            text(
                f"SELECT {column} AS name, count(*) * 100.0 / (SELECT count(*) FROM person)"  # noqa: S608 - a column name of this function
                f" AS share FROM person GROUP BY {column} ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
        print(f"most common {column}: {row.name} ({row.share:.1f}% of persons)")


def main() -> None:
    """Fill, migrate (backfill), time, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--explain-all", action="store_true")
    args = parser.parse_args()
    name = create_database()
    print(f"database {name}")
    try:
        with tempfile.TemporaryDirectory() as instance:
            app = create_app(settings(name, Path(instance)), FrozenClock(NOW))
            with app.app_context():
                flask_migrate.upgrade(directory=MIGRATIONS, revision="0012")
                print(f"filled {args.persons:,} persons in {fill(args.persons):.1f} s")
                started = time.perf_counter()
                flask_migrate.upgrade(directory=MIGRATIONS)
                print(f"migration 0013 (backfill) and later: {time.perf_counter() - started:.1f} s")
                vacuum(name)
                sizes()
                p95s = report(args.runs, verbose=args.explain_all)
                print(f"\nworst p95: {max(p95s):.1f} ms (target: under 100 ms)")
                db.session.remove()
                db.engine.dispose()
    finally:
        if args.keep_db:
            print(f"kept database {name}")
        else:
            drop_database(name)


if __name__ == "__main__":
    main()
