#!/usr/bin/env python3
"""The daily lifecycle sweep over a district-sized account table (a script, not a test).

Creates a throwaway PostgreSQL database on 127.0.0.1:5432 (trust auth), migrates it, fills it
with `--accounts` guardian and student accounts in SQL (generate_series), of which 10% are due
for some transition as of the sweep time (2.5% each: disable warning, disable, deletion
warning, deletion), gives each due account a security answer, an SSO session and a token so
the purge and revocation have rows to work on, then runs `LifecycleService.sweep` once (timed)
and again with the same `as_of` (must change nothing). Prints seconds, accounts/s, the counts
per transition and the peak RSS of this process; drops the database.

    .venv/bin/python bench/lifecycle_bench.py                 # 1,000,000 accounts
    .venv/bin/python bench/lifecycle_bench.py --accounts 100000
    .venv/bin/python bench/lifecycle_bench.py --live-sessions  # back-channel logout for each

See bench/README.md ("Lifecycle sweep benchmark").
"""

from __future__ import annotations

import argparse
import resource
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import psycopg
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from idp import create_app
from idp.clock import FrozenClock
from idp.config import Settings
from idp.extensions import db

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
AS_OF = datetime(2027, 9, 1, 3, 0, tzinfo=UTC)

# Idle days of each band (policies/lifecycle.toml: disable 183, warn 14 before; delete 396,
# warn 30 before). `delete_warned` accounts were warned 31 days ago, so they are deleted now.
FILL = """
INSERT INTO account (sub, kind, state, username, email, locale, communication_channel,
                     communication_topics, created_at, state_changed_at, last_activity_at,
                     delete_warned_at)
SELECT md5(:salt || n::text) || md5(n::text),
       CASE WHEN n % 5 = 0 THEN 'student' ELSE 'guardian' END,
       CASE WHEN n % 40 IN (2, 3) THEN 'disabled' ELSE 'active' END,
       'user' || lpad(n::text, 12, '0'),
       CASE WHEN n % 5 = 0 THEN NULL ELSE 'user' || n::text || '@example.org' END,
       'en', 'email', '[]'::jsonb,
       :as_of - interval '800 days',
       :as_of - interval '200 days',
       :as_of - make_interval(days => CASE n % 40
            WHEN 0 THEN 175      -- disable warning due
            WHEN 1 THEN 190      -- disable due
            WHEN 2 THEN 370      -- deletion warning due (already disabled)
            WHEN 3 THEN 400      -- deletion due (already disabled and warned)
            ELSE (n % 150)       -- recently active: nothing due
       END),
       CASE WHEN n % 40 = 3 THEN :as_of - interval '31 days' ELSE NULL END
FROM generate_series(1, :count) AS n
"""
SIDE_ROWS = [
    """INSERT INTO security_answer (account_id, question_key, answer_hash, created_at)
       SELECT id, 'first_pet', 'x', :as_of FROM account WHERE id % 40 IN (0, 1, 2, 3)""",
    """INSERT INTO oidc_sso_session (sid, account_id, auth_time, amr, acr, last_seen_at,
                                     expires_at)
       SELECT md5(id::text), id, :as_of, '["pwd"]'::jsonb, NULL, :as_of, :as_of
       FROM account WHERE id % 40 IN (1, 3)""",
]
# --live-sessions: the SSO sessions are still live at the sweep and each signed in to an app
# with a back-channel logout URI, so ending access queues one logout token per session.
LIVE_SESSIONS = [
    """UPDATE oidc_sso_session SET expires_at = :as_of + interval '12 hours'""",
    """INSERT INTO oidc_client (client_id, name, token_endpoint_auth_method, redirect_uris,
                                post_logout_redirect_uris, backchannel_logout_uri, grant_types,
                                scopes, is_first_party, is_enabled, source_file, synced_at)
       VALUES ('bench-app', 'Bench app', 'none', '[]', '[]',
               'http://127.0.0.1:5009/backchannel-logout', '[]', '[]', true, true,
               'bench', :as_of)""",
    """INSERT INTO oidc_sso_session_client (sso_session_id, client_id, first_at)
       SELECT id, 'bench-app', :as_of FROM oidc_sso_session""",
]


def create_database() -> str:
    """A fresh database; its name."""
    name = f"idp_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    """Remove the benchmark database."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


def fill(count: int, *, live_sessions: bool) -> float:
    """Insert the accounts and their side rows; seconds taken."""
    started = time.perf_counter()
    params = {"as_of": AS_OF, "count": count, "salt": secrets.token_hex(4)}
    db.session.execute(text(FILL), params)
    for statement in SIDE_ROWS + (LIVE_SESSIONS if live_sessions else []):
        db.session.execute(text(statement), {"as_of": AS_OF})
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return time.perf_counter() - started


def queued_logouts() -> int:
    """Back-channel logout messages in the outbox."""
    query = text("SELECT count(*) FROM outbox WHERE template = 'backchannel_logout'")
    return int(db.session.execute(query).scalar_one())


def main() -> None:
    """Fill, sweep twice, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument(
        "--live-sessions",
        action="store_true",
        help="the SSO sessions are live and signed in to an app with back-channel logout",
    )
    args = parser.parse_args()
    name = create_database()
    try:
        with tempfile.TemporaryDirectory() as instance:
            app = create_app(settings(name, Path(instance)), FrozenClock(AS_OF))
            with app.app_context():
                flask_migrate.upgrade(directory=str(ROOT / "idp" / "migrations"))
                seconds = fill(args.accounts, live_sessions=args.live_sessions)
                print(f"filled {args.accounts:,} accounts in {seconds:.1f} s")
                lifecycle = app.extensions["idp.services"].lifecycle
                started = time.perf_counter()
                report = lifecycle.sweep(AS_OF)
                seconds = time.perf_counter() - started
                print(f"sweep: {seconds:.1f} s, {args.accounts / seconds:,.0f} accounts/s")
                print(f"  {report.as_line()}")
                started = time.perf_counter()
                again = lifecycle.sweep(AS_OF)
                print(f"second sweep (same as_of): {time.perf_counter() - started:.1f} s")
                print(f"  {again.as_line()}")
                print(f"  {queued_logouts()} back-channel logout tokens queued")
                db.session.remove()
                db.engine.dispose()
    finally:
        drop_database(name)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
