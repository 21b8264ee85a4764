#!/usr/bin/env python3
"""Cost of password hashing and the sign-in timing equaliser (a script, not a test).

(a) Times argon2id `SecretHasher.hash` and `verify` with the parameters of
    policies/credentials.toml: median and p90 over `--runs` runs.
(b) Builds the app in this process on a throwaway SQLite file (test settings, frozen clock),
    creates one account, then POSTs /sign-in through Flask's test client (CSRF token included)
    with an unknown username and with the known username and a wrong password, interleaved,
    `--attempts` times each. It prints the median response time of each path, their relative
    difference, and whether the status codes and error messages are identical. It asserts
    nothing: tests/integration/credentials/test_timing_equaliser.py is the test.

    .venv/bin/python bench/credentials_bench.py
    .venv/bin/python bench/credentials_bench.py --runs 50 --attempts 40 --core 1

See bench/README.md ("Credentials benchmark").
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from idp import create_app
from idp.accounts.models import AccountKind, AccountState
from idp.accounts.service import NewAccount
from idp.clock import FrozenClock
from idp.config import Settings
from idp.credentials.hashing import SecretHasher
from idp.credentials.models import SignInThrottle
from idp.extensions import db
from idp.policy import load_policies
from idp.services import Services

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
USERNAME = "benchparent1"
PASSWORD = "lantern orchard velvet tuba"  # noqa: S105 - a throwaway account in a temp file
WRONG_PASSWORD = "not the password at all"  # noqa: S105
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
ALERT = re.compile(r'<div class="alert" role="alert" id="form-error">(.*?)</div>', re.S)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def timed_ms(action: Callable[[], object]) -> float:
    """Milliseconds one call of `action` takes (monotonic high-resolution clock)."""
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


# --------------------------------------------------------------------------------------------
# (a) argon2id
# --------------------------------------------------------------------------------------------


def argon2_cost(runs: int) -> dict[str, list[float]]:
    """Hash and verify times (ms) with the policy's argon2id parameters."""
    hashing = load_policies(ROOT / "policies").credentials.hashing
    print(
        f"argon2id: memory_cost_kib={hashing.memory_cost_kib} time_cost={hashing.time_cost} "
        f"parallelism={hashing.parallelism} (policies/credentials.toml)"
    )
    hasher = SecretHasher(hashing)
    stored = hasher.hash(PASSWORD)
    hasher.verify(stored, PASSWORD)  # warm-up: first allocation of the memory
    return {
        "hash": [timed_ms(lambda: hasher.hash(PASSWORD)) for _ in range(runs)],
        "verify (right password)": [
            timed_ms(lambda: hasher.verify(stored, PASSWORD)) for _ in range(runs)
        ],
        "verify (wrong password)": [
            timed_ms(lambda: hasher.verify(stored, WRONG_PASSWORD)) for _ in range(runs)
        ],
        "verify (no account: dummy hash)": [
            timed_ms(lambda: hasher.verify(None, WRONG_PASSWORD)) for _ in range(runs)
        ],
    }


# --------------------------------------------------------------------------------------------
# (b) /sign-in: unknown username versus known username with a wrong password
# --------------------------------------------------------------------------------------------


def bench_settings(workdir: Path, database_url: str) -> Settings:
    """Test settings (the rate limiter off, CSRF on) on `database_url`, for the timing benches
    (also bench/recovery_timing.py)."""
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="bench-secret-key-" + "x" * 32,
        key_encryption_key="x9Qy0U2nJm7zcY3bXb6pG3tqE1C7v8r5H4kLw2sNfZo=",
        issuer="http://localhost",
        instance_path=workdir / "instance",
        policy_dir=ROOT / "policies",
    )


def build_app(workdir: Path) -> Flask:
    """The app with test settings on a migrated SQLite file, holding one active account."""
    settings = bench_settings(workdir, f"sqlite:///{workdir / 'bench.sqlite3'}")
    app = create_app(settings, FrozenClock(START))
    with app.app_context():
        flask_migrate.upgrade()
        services: Services = app.extensions["idp.services"]
        services.accounts.create(
            NewAccount(
                kind=AccountKind.GUARDIAN,
                state=AccountState.ACTIVE,
                username=USERNAME,
                email="benchparent1@example.org",
                password_hash=services.hasher.hash(PASSWORD),
            )
        )
        db.session.commit()
    return app


def forget_failures(app: Flask) -> None:
    """Empty the sign-in throttle so that no attempt meets a lock (5 failures lock a name)."""
    with app.app_context():
        db.session.execute(delete(SignInThrottle))
        db.session.commit()
        db.session.remove()


def failed_sign_in(app: Flask, client: FlaskClient, username: str) -> tuple[float, int, str]:
    """One POST /sign-in with a wrong password: (ms, status, error message text)."""
    forget_failures(app)
    page = client.get("/sign-in").get_data(as_text=True)
    token = CSRF.search(page)
    form = {
        "username": username,
        "password": WRONG_PASSWORD,
        "csrf_token": token[1] if token else "",
    }
    started = time.perf_counter()
    response = client.post("/sign-in", data=form)
    elapsed = (time.perf_counter() - started) * 1000
    alert = ALERT.search(response.get_data(as_text=True))
    return elapsed, response.status_code, alert[1].strip() if alert else ""


def sign_in_timing(app: Flask, attempts: int) -> dict[str, list[tuple[float, int, str]]]:
    """Interleaved attempts; the order within each pair alternates so neither path goes first."""
    client = app.test_client()
    failed_sign_in(app, client, USERNAME)  # warm-up (templates, first queries): not counted
    failed_sign_in(app, client, "benchwarmup0")
    results: dict[str, list[tuple[float, int, str]]] = {"unknown": [], "wrong_password": []}
    for attempt in range(attempts):
        pair = [("unknown", f"nobody{attempt:03d}x"), ("wrong_password", USERNAME)]
        for path, username in pair if attempt % 2 == 0 else reversed(pair):
            results[path].append(failed_sign_in(app, client, username))
    return results


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def print_argon2(cost: dict[str, list[float]]) -> None:
    """Median and p90 of each argon2 operation."""
    print(f"\n{'argon2id operation':<34} {'runs':>5} {'median ms':>10} {'p90 ms':>8}")
    for name, values in cost.items():
        print(
            f"{name:<34} {len(values):>5} {statistics.median(values):>10.1f} "
            f"{percentile(values, 0.9):>8.1f}"
        )


def print_comparison(
    title: str,
    results: dict[str, list[tuple[float, int, str]]],
    probe: str,
    baseline: str,
    decimals: int = 1,
    show_answers: bool = True,
) -> None:
    """Median and p90 per path, the probe's relative difference to the baseline, and whether
    their answers match (also used by bench/recovery_timing.py)."""
    print(f"\n{title:<34} {'runs':>5} {'median ms':>10} {'p90 ms':>8}  status")
    medians: dict[str, float] = {}
    for path, rows in results.items():
        times = [row[0] for row in rows]
        medians[path] = statistics.median(times)
        statuses = sorted({row[1] for row in rows})
        print(
            f"{path:<34} {len(rows):>5} {medians[path]:>10.{decimals}f} "
            f"{percentile(times, 0.9):>8.{decimals}f}  {statuses}"
        )
    difference = (medians[probe] - medians[baseline]) / medians[baseline] * 100
    print(f"relative difference ({probe} vs {baseline}): {difference:+.1f} %")
    answers = {path: {(row[1], row[2]) for row in rows} for path, rows in results.items()}
    is_identical = len(answers[baseline]) == 1 and answers[baseline] == answers[probe]
    print(f"status/body identical: {'yes' if is_identical else 'no'}")
    for path, seen in answers.items() if show_answers else ():
        for status, message in sorted(seen):
            print(f"  {path}: {status} {message!r}")


def print_sign_in(results: dict[str, list[tuple[float, int, str]]]) -> None:
    """Sign-in with a wrong password against an unknown username."""
    print_comparison("POST /sign-in", results, "wrong_password", "unknown")


def main() -> int:
    """Parse arguments, run (a) and (b), print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="argon2 runs per operation (30)")
    parser.add_argument("--attempts", type=int, default=20, help="sign-ins per path (20)")
    parser.add_argument("--core", type=int, help="pin this process to one CPU core (Linux)")
    args = parser.parse_args()
    if args.core is not None:
        os.sched_setaffinity(0, {args.core})
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    cost = argon2_cost(args.runs)
    with tempfile.TemporaryDirectory(prefix="idp-credentials-bench-") as workdir:
        app = build_app(Path(workdir))
        results = sign_in_timing(app, args.attempts)
        with app.app_context():
            db.engine.dispose()
    print_argon2(cost)
    print_sign_in(results)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
