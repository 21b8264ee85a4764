"""gunicorn config used by `oidc_bench.py --count-sql`: counts, per request path, the SQL
statements, pool checkouts (each one is a `pool_pre_ping` round trip) and commits the worker
issues, and writes them to $BENCH_SQLCOUNT_OUT when the worker exits. Diagnosis only: the
listeners add a little overhead. Nothing in idp/ is changed; the listeners are attached to
SQLAlchemy's Engine/Pool classes inside the worker process."""

from __future__ import annotations

import json
import os
import re
import threading
from collections import Counter, defaultdict
from typing import Any

_lock = threading.Lock()
_requests: Counter[str] = Counter()
_per_path: dict[str, Counter[str]] = defaultdict(Counter)
_statements: dict[str, Counter[str]] = defaultdict(Counter)
_current = threading.local()
_WORDS = re.compile(r"\s+")


def _key() -> str:
    return getattr(_current, "path", "-")


def _shape(statement: str) -> str:
    text = _WORDS.sub(" ", statement).strip()
    if os.environ.get("BENCH_SQLCOUNT_FULL"):
        return text[:400]
    # Keep the verb and the table(s): enough to tell the statements apart.
    match = re.match(r"(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b", text)
    verb = match.group(1) if match else text.split(" ", 1)[0]
    tables = re.findall(r"(?:FROM|INTO|UPDATE|JOIN) (\w+)", text)
    seen = list(dict.fromkeys(tables))
    return f"{verb} {','.join(seen)}" + (" FOR UPDATE" if "FOR UPDATE" in text else "")


def post_worker_init(worker: Any) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    @event.listens_for(Engine, "before_cursor_execute")
    def _statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        key = _key()
        with _lock:
            _per_path[key]["statements"] += 1
            _statements[key][_shape(statement)] += 1

    @event.listens_for(Pool, "checkout")
    def _checkout(*args: Any) -> None:
        with _lock:
            _per_path[_key()]["checkouts"] += 1

    @event.listens_for(Engine, "commit")
    def _commit(conn: Any) -> None:
        with _lock:
            _per_path[_key()]["commits"] += 1

    @event.listens_for(Engine, "rollback")
    def _rollback(conn: Any) -> None:
        with _lock:
            _per_path[_key()]["rollbacks"] += 1


def pre_request(worker: Any, req: Any) -> None:
    _current.path = f"{req.method} {req.path}"


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    with _lock:
        _requests[f"{req.method} {req.path}"] += 1
    _current.path = "-"


def worker_exit(server: Any, worker: Any) -> None:
    out = os.environ.get("BENCH_SQLCOUNT_OUT")
    if not out:
        return
    report = {}
    for path, n in _requests.items():
        counts = _per_path.get(path, Counter())
        report[path] = {
            "requests": n,
            "statements_per_request": counts["statements"] / n,
            "checkouts_per_request": counts["checkouts"] / n,
            "commits_per_request": counts["commits"] / n,
            "rollbacks_per_request": counts["rollbacks"] / n,
            "statements": {k: v / n for k, v in _statements[path].most_common()},
        }
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
