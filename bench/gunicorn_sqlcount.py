"""gunicorn config used by `oidc_bench.py --count-sql`: counts, per request path, the SQL
statements, pool checkouts (each one is a `pool_pre_ping` round trip) and commits the worker
issues, the CPU time of the request thread (median), and the time of each argon2 verification
as the request sees it; writes them to $BENCH_SQLCOUNT_OUT when the worker exits. Diagnosis
only: the listeners add a little overhead. Nothing in idp/ is changed; the listeners are
attached to SQLAlchemy's Engine/Pool classes and SecretHasher inside the worker process.

A request that carries a database-held browser session (a signed-in browser) is counted
apart from one that does not: `GET /authorize [signed in]` vs `GET /authorize`."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter, defaultdict
from typing import Any

_lock = threading.Lock()
_requests: Counter[str] = Counter()
_per_path: dict[str, Counter[str]] = defaultdict(Counter)
_statements: dict[str, Counter[str]] = defaultdict(Counter)
_cpu: dict[str, list[float]] = defaultdict(list)
_verify: list[float] = []
_current = threading.local()
_SIGNED_IN = re.compile(r"(?:^|;\s*)idp_session=[^.;]")
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

    from idp.credentials.hashing import SecretHasher

    verify = SecretHasher.verify

    def timed_verify(self: SecretHasher, stored_hash: str | None, secret: str) -> bool:
        started = time.perf_counter()
        try:
            return verify(self, stored_hash, secret)
        finally:
            with _lock:
                _verify.append(time.perf_counter() - started)

    SecretHasher.verify = timed_verify  # type: ignore[method-assign]

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


def _request_key(req: Any) -> str:
    cookies = "; ".join(value for name, value in req.headers if name == "COOKIE")
    signed_in = " [signed in]" if _SIGNED_IN.search(cookies) else ""
    return f"{req.method} {req.path}{signed_in}"


def pre_request(worker: Any, req: Any) -> None:
    _current.path = _request_key(req)
    _current.cpu = time.thread_time()


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    cpu = time.thread_time() - getattr(_current, "cpu", time.thread_time())
    key = getattr(_current, "path", _request_key(req))
    with _lock:
        _requests[key] += 1
        _cpu[key].append(cpu)
    _current.path = "-"


def _median_ms(values: list[float]) -> float | None:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] * 1000 if ordered else None


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
            "cpu_ms_p50": _median_ms(_cpu[path]),
            "statements": {k: v / n for k, v in _statements[path].most_common()},
        }
    report["_argon2_verify_ms_p50"] = {"requests": len(_verify), "ms": _median_ms(_verify)}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
