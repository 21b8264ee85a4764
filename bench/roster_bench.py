#!/usr/bin/env python3
"""OneRoster import speed and memory on PostgreSQL (a script, not a test).

1. Creates a throwaway database `idp_roster_bench_<random>` on 127.0.0.1:5432 (user postgres,
   trust auth) and migrates it with `idp db upgrade`.
2. Writes a synthetic district of `--students` students (default 600,000: with 400,000
   guardians and 1,200,000 relationships, one million persons) with `idp roster synth` into a
   temporary folder.
3. Runs `idp roster import` on it twice, each in a child process: the first import into the
   empty database, then the re-import of the same files (nothing changes). For each it prints
   the wall time of the child, the import's own time (its last line), rows per second and the
   child's peak RSS (`os.wait4` rusage).
4. Drops the database (`--keep-db` keeps it) and the folder.

    .venv/bin/python bench/roster_bench.py                    # about 2 minutes
    .venv/bin/python bench/roster_bench.py --students 60000   # quick iteration

Targets (issue 6): import < 60 s, re-import < 45 s, peak RSS < 512 MiB at 600,000 students.
Run it on a quiet machine: other processes on the same cores slow both sides.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
IDP = str(Path(sys.executable).parent / "idp")
ADMIN_DSN = os.environ.get("IDP_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
DONE = re.compile(r"Import done in ([\d.]+) s \((\d+) rows\)")


def idp_env(database: str, instance: Path) -> dict[str, str]:
    """Environment of the `idp` child processes: development settings on the bench database."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
    environ.update(
        IDP_ENV="development",
        IDP_INSTANCE_PATH=str(instance),
        IDP_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
    )
    return environ


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, str, str]:
    """Run one `idp` command; wall seconds, peak RSS (KiB), stdout and stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen([IDP, *args], stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if child.returncode != 0:
        sys.exit(f"idp {' '.join(args)} failed ({child.returncode}):\n{stdout}\n{stderr}")
    return seconds, usage.ru_maxrss, stdout, stderr


def measure_import(label: str, folder: Path, env: dict[str, str]) -> dict[str, float]:
    """One `idp roster import` in a child process, printed and returned."""
    seconds, peak_kib, stdout, stderr = run_measured(["roster", "import", str(folder)], env)
    match = DONE.search(stdout)
    assert match, stdout
    own_seconds, rows = float(match.group(1)), int(match.group(2))
    print(f"\n{label}:")
    print("  " + "\n  ".join(line for line in stdout.splitlines() if line))
    progress = [line for line in stderr.splitlines() if line]
    print(
        f"  progress lines on stderr: {len(progress)} (last: {progress[-1] if progress else '-'})"
    )
    result = {
        "wall_seconds": seconds,
        "import_seconds": own_seconds,
        "rows": rows,
        "rows_per_second": rows / own_seconds,
        "peak_rss_mib": peak_kib / 1024,
    }
    print(
        f"  wall {seconds:.1f} s (child process), import {own_seconds:.1f} s,"
        f" {result['rows_per_second']:,.0f} rows/s, peak RSS {result['peak_rss_mib']:.0f} MiB"
    )
    return result


def main() -> None:
    """Create the database, synthesise, import twice, report, drop."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=600_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-db", action="store_true", help="Do not drop the database.")
    options = parser.parse_args()
    database = f"idp_roster_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        with tempfile.TemporaryDirectory(prefix="roster-bench-") as tmp:
            env = idp_env(database, Path(tmp) / "instance")
            run_measured(["db", "upgrade"], env)
            folder = Path(tmp) / "district"
            seconds, _, stdout, _ = run_measured(
                ["roster", "synth", "--students", str(options.students), "--out", str(folder),
                 "--seed", str(options.seed)],
                env,
            )  # fmt: skip
            size = sum(path.stat().st_size for path in folder.iterdir()) / 2**20
            print(f"database {database}; {stdout.strip()} ({size:.0f} MiB, {seconds:.1f} s)")
            first = measure_import("import (empty database)", folder, env)
            second = measure_import("re-import (same files, no change)", folder, env)
            print("\nsummary (targets: import < 60 s, re-import < 45 s, peak RSS < 512 MiB)")
            for label, result in (("import", first), ("re-import", second)):
                print(
                    f"  {label:<9} {result['import_seconds']:6.1f} s"
                    f" ({result['wall_seconds']:.1f} s wall) {result['rows_per_second']:>10,.0f}"
                    f" rows/s  peak RSS {result['peak_rss_mib']:4.0f} MiB"
                )
    finally:
        if not options.keep_db:
            with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
