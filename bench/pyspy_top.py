#!/usr/bin/env python3
"""Summarise a py-spy raw profile (collapsed stacks, `py-spy record --format raw`), as written by
`oidc_bench.py --py-spy DIR`: the top costs by self time, by inclusive time, and by library.

    .venv/bin/python bench/pyspy_top.py /tmp/prof/gthread-refresh.txt --top 10
    .venv/bin/python bench/pyspy_top.py /tmp/prof/gthread-refresh.txt --under idp/oidc/tokens.py:

Shares are of all non-idle samples of the worker (py-spy leaves out threads that wait on a
socket or a lock), i.e. roughly of the worker's CPU time.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
# First matching prefix names the library a leaf frame belongs to.
_LIBRARIES = [
    ("idp/", "idp (our code)"),
    ("sqlalchemy/", "sqlalchemy"),
    ("<sqlalchemy", "sqlalchemy"),
    ("psycopg", "psycopg"),
    ("authlib/", "authlib"),
    ("joserfc/", "joserfc"),
    ("cryptography/", "cryptography"),
    ("jinja2/", "jinja2"),
    ("<template>", "jinja2 templates"),
    ("templates/", "jinja2 templates"),
    ("flask_limiter/", "flask-limiter"),
    ("limits/", "flask-limiter (limits)"),
    ("flask_babel/", "flask-babel"),
    ("babel/", "babel"),
    ("flask_wtf/", "flask-wtf"),
    ("wtforms/", "wtforms"),
    ("flask_sqlalchemy/", "flask-sqlalchemy"),
    ("flask/", "flask"),
    ("werkzeug/", "werkzeug"),
    ("gunicorn/", "gunicorn"),
    ("argon2/", "argon2"),
    ("itsdangerous/", "itsdangerous"),
    ("pydantic", "pydantic"),
]


def frame_key(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    return f"{match.group('file')}:{match.group('func')}"


def library(key: str) -> str:
    for prefix, name in _LIBRARIES:
        if key.startswith(prefix) or f"/{prefix}" in key:
            return name
    return "python stdlib / other"


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append(([frame_key(f) for f in stack.split(";")], int(count)))
    return stacks


def callsites(stacks: list[tuple[list[str], int]]) -> Counter[str]:
    """Each sample charged to the deepest frame of our code and the call it was in."""
    sites: Counter[str] = Counter()
    for frames, n in stacks:
        ours = [i for i, f in enumerate(frames) if f.startswith("idp/")]
        if ours:
            i = ours[-1]
            callee = frames[i + 1] if i + 1 < len(frames) else "(own code)"
            sites[f"{frames[i]} -> {callee}"] += n
            continue
        flask = [i for i, f in enumerate(frames) if f.startswith(("flask/app.py", "flask/ctx.py"))]
        if flask:
            i = flask[-1]
            callee = frames[i + 1] if i + 1 < len(frames) else "(own code)"
            sites[f"{frames[i]} -> {callee}"] += n
            continue
        server = [i for i, f in enumerate(frames) if f.startswith("gunicorn/")]
        sites["gunicorn: " + (frames[server[-1]] if server else frames[-1])] += n
    return sites


# Leaf frames of a thread that is not using the CPU: a handler thread waiting for work, the
# main thread in epoll, and (separately reported) a thread waiting for PostgreSQL's answer.
IDLE_LEAVES = (
    "concurrent/futures/thread.py:_worker",
    "selectors.py:EpollSelector.select",
    "threading.py:Condition.wait",
    "threading.py:Event.wait",
    "gunicorn/workers/gthread.py:ThreadWorker.wait_for_and_dispatch_events",
)
PG_WAIT_LEAVES = (
    "psycopg/connection.py:Connection.wait",
    "psycopg/_cursor_base.py:BaseCursor._send_query_prepared",
    "psycopg/_cursor_base.py:BaseCursor._execute_send",
    "psycopg/_connection_base.py:BaseConnection._exec_command",
    "psycopg/connection.py:Connection._exec_command",
)


def drop_idle(stacks: list[tuple[list[str], int]]) -> tuple[list[tuple[list[str], int]], str]:
    """Without --gil py-spy samples every thread: keep only those that run Python code."""
    total = sum(n for _, n in stacks) or 1
    idle = sum(n for frames, n in stacks if frames[-1] in IDLE_LEAVES)
    pg = sum(n for frames, n in stacks if frames[-1] in PG_WAIT_LEAVES)
    kept = [(f, n) for f, n in stacks if f[-1] not in IDLE_LEAVES and f[-1] not in PG_WAIT_LEAVES]
    note = (
        f"  dropped: {100 * idle / total:.0f}% idle (waiting for work / epoll), "
        f"{100 * pg / total:.0f}% waiting for PostgreSQL; shares below are of the rest"
    )
    return kept, note


def summarise(path: Path, top: int, under: str | None, idle: bool = False) -> str:
    stacks = load(path)
    note = ""
    if idle:
        stacks, note = drop_idle(stacks)
    if under:
        stacks = [
            (frames[next(i for i, f in enumerate(frames) if f.startswith(under)) :], n)
            for frames, n in stacks
            if any(f.startswith(under) for f in frames)
        ]
    total = sum(n for _, n in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    for frames, n in stacks:
        own[frames[-1]] += n
        libraries[library(frames[-1])] += n
        for key in set(frames):
            inclusive[key] += n
    lines = [f"{path.name}: {total} samples" + (f" under {under}" if under else "")]
    if note:
        lines.append(note)
    lines.append(f"  top {top} by self time:")
    for key, n in own.most_common(top):
        lines.append(f"    {100 * n / total:5.1f}%  {key}")
    lines.append(f"  top {top} by inclusive time (idp/, authlib/, flask*/ frames):")
    shown = 0
    for key, n in inclusive.most_common():
        if not key.startswith(
            (
                "idp/",
                "authlib/",
                "flask",
                "werkzeug/",
                "jinja2/",
                "joserfc/",
                "sqlalchemy/orm/session.py",
                "sqlalchemy/orm/scoping.py",
                "sqlalchemy/engine/base.py:Connection._exec",
                "sqlalchemy/pool/",
            )
        ):
            continue
        lines.append(f"    {100 * n / total:5.1f}%  {key}")
        shown += 1
        if shown >= top * 2:
            break
    lines.append(
        f"  top {top} call sites (deepest idp/ frame -> what it called; without idp/ code:"
        " the Flask/extension or server step):"
    )
    for key, n in callsites(stacks).most_common(top):
        lines.append(f"    {100 * n / total:5.1f}%  {key}")
    lines.append("  self time by library:")
    for name, n in libraries.most_common():
        lines.append(f"    {100 * n / total:5.1f}%  {name}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument(
        "--drop-idle",
        action="store_true",
        help="for profiles recorded without --gil: leave out idle threads and "
        "threads waiting for PostgreSQL (best with --threads 1)",
    )
    parser.add_argument(
        "--under", default=None, help="only stacks through this frame (file:function prefix)"
    )
    args = parser.parse_args()
    for path in args.profiles:
        print(summarise(path, args.top, args.under, args.drop_idle))
        print()


if __name__ == "__main__":
    main()
