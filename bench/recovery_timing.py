#!/usr/bin/env python3
"""Forgot password: response time for a known and an unknown username (a script, not a test).

Builds the app in this process (test settings, frozen clock) on a throwaway SQLite file, or with
`--postgresql` on a throwaway PostgreSQL database (created and dropped on 127.0.0.1:5432), with
one guardian who can recover (email, three security answers). Then POSTs /forgot-password
through Flask's test client (CSRF token included) with the known username and with an unknown
one (a different one each time), interleaved and alternating which goes first, `--attempts`
times each. Prints the median and p90 of each path, their relative difference, and whether the
answers were identical. It asserts nothing: the test is
tests/integration/credentials/test_recovery_same_work.py (same statements, same signing).

    .venv/bin/python bench/recovery_timing.py
    .venv/bin/python bench/recovery_timing.py --attempts 200 --postgresql --core 1

See bench/README.md ("Recovery timing").
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import psycopg
from credentials_bench import bench_settings, print_comparison  # bench/ is on sys.path when run
from flask import Flask
from flask.testing import FlaskClient

from idp import create_app
from idp.accounts.models import AccountKind, AccountState
from idp.accounts.service import NewAccount
from idp.clock import FrozenClock
from idp.credentials.models import SecurityAnswer
from idp.extensions import db
from idp.services import Services

START = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
USERNAME = "benchparent1"
PASSWORD = "lantern orchard velvet tuba"  # noqa: S105 - a throwaway account in a temp database
PG_ADMIN_DSN = os.environ.get(
    "IDP_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


@contextmanager
def database(workdir: Path, is_postgresql: bool) -> Iterator[str]:
    """A SQLite file in `workdir`, or a throwaway PostgreSQL database dropped afterwards."""
    if not is_postgresql:
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    name = f"idp_bench_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build_app(workdir: Path, database_url: str) -> Flask:
    """The app with test settings on a migrated database, holding one guardian who can recover."""
    settings = bench_settings(workdir, database_url)
    app = create_app(settings, FrozenClock(START))
    with app.app_context():
        flask_migrate.upgrade()
        services: Services = app.extensions["idp.services"]
        account = services.accounts.create(
            NewAccount(
                kind=AccountKind.GUARDIAN,
                state=AccountState.ACTIVE,
                username=USERNAME,
                email="benchparent1@example.org",
                password_hash=services.hasher.hash(PASSWORD),
            )
        )
        keys = services.policies.credentials.security_questions.question_keys[:3]
        for key in keys:
            answer_hash = services.hasher.hash(f"answer to {key}")
            db.session.add(
                SecurityAnswer(
                    account_id=account.id,
                    question_key=key,
                    answer_hash=answer_hash,
                    created_at=START,
                )
            )
        db.session.commit()
    return app


def forgot_password(client: FlaskClient, username: str) -> tuple[float, int, str]:
    """One POST /forgot-password: (ms, status, page without its CSRF token)."""
    page = client.get("/forgot-password").get_data(as_text=True)
    token = CSRF.search(page)
    form = {"username": username, "csrf_token": token[1] if token else ""}
    started = time.perf_counter()
    response = client.post("/forgot-password", data=form)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, response.status_code, CSRF.sub("", response.get_data(as_text=True))


def timing(app: Flask, attempts: int) -> dict[str, list[tuple[float, int, str]]]:
    """Interleaved attempts; the order within each pair alternates so neither path goes first."""
    client = app.test_client()
    forgot_password(client, USERNAME)  # warm-up (templates, first queries): not counted
    forgot_password(client, "benchwarmup0")
    results: dict[str, list[tuple[float, int, str]]] = {"known": [], "unknown": []}
    for attempt in range(attempts):
        pair = [("unknown", f"nobody{attempt:04d}x"), ("known", USERNAME)]
        for path, username in pair if attempt % 2 == 0 else reversed(pair):
            results[path].append(forgot_password(client, username))
    return results


def report(results: dict[str, list[tuple[float, int, str]]]) -> None:
    """Median and p90 per path, their relative difference, and whether the answers match."""
    print_comparison(
        "POST /forgot-password", results, "known", "unknown", decimals=2, show_answers=False
    )


def main() -> int:
    """Parse arguments, build the app, time both paths, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=100, help="requests per path (100)")
    parser.add_argument("--postgresql", action="store_true", help="a throwaway PostgreSQL database")
    parser.add_argument("--core", type=int, help="pin this process to one CPU core (Linux)")
    args = parser.parse_args()
    if args.core is not None:
        os.sched_setaffinity(0, {args.core})
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with (
        tempfile.TemporaryDirectory(prefix="idp-recovery-bench-") as workdir,
        database(Path(workdir), args.postgresql) as database_url,
    ):
        print(f"database: {database_url.split(':', 1)[0]}")
        app = build_app(Path(workdir), database_url)
        results = timing(app, args.attempts)
        with app.app_context():
            db.engine.dispose()
    report(results)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
