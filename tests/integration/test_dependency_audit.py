"""`make audit` (.ci/audit_dependencies.py): a known vulnerability fails the run, an advisory
service that cannot be reached is a warning, never a failure (issue 14).

The advisory service is a fake OSV API on 127.0.0.1 (pip-audit's `--osv-url`): the real one is
not reachable from every machine that runs the tests, and its answers change.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import pytest

from idp.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / ".ci" / "audit_dependencies.py"
VULNERABLE = "flask"  # installed in every environment that runs these tests
ADVISORY = {
    "id": "GHSA-test-0000-0000",
    "summary": "A made-up advisory for the test",
    "affected": [
        {
            "package": {"name": VULNERABLE, "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "999.0"}]}],
        }
    ],
}


class FakeOsv(BaseHTTPRequestHandler):
    """POST /v1/query: an advisory for VULNERABLE when the server `is_vulnerable`; when it
    `is_failing`, a 503 for every package but pip (the script's first question)."""

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server: Any = self.server
        name = query["package"]["name"]
        if server.is_failing and name != "pip":
            self.send_error(503)
            return
        is_hit = server.is_vulnerable and name == VULNERABLE
        body = json.dumps({"vulns": [ADVISORY]} if is_hit else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def osv() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsv)
    server.is_vulnerable = False  # type: ignore[attr-defined]  # read by FakeOsv
    server.is_failing = False  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once it is closed


class Audit(NamedTuple):
    """The script's exit code and output."""

    code: int
    stdout: str
    stderr: str


def _audit(*args: str, env: dict[str, str] | None = None) -> Audit:
    finished = subprocess.run(
        [sys.executable, str(SCRIPT), "--timeout", "5", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    return Audit(finished.returncode, finished.stdout, finished.stderr)


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1/query"


def test_a_known_vulnerability_fails_the_audit(osv: ThreadingHTTPServer) -> None:
    osv.is_vulnerable = True  # type: ignore[attr-defined]

    audit = _audit("--osv-url", _url(osv))

    assert audit.code == 1
    assert f"VULNERABLE: {VULNERABLE} " in audit.stdout
    assert "GHSA-test-0000-0000" in audit.stdout


def test_no_known_vulnerability_passes(osv: ThreadingHTTPServer) -> None:
    audit = _audit("--osv-url", _url(osv))

    assert audit.code == 0
    assert "no known vulnerability" in audit.stdout


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--osv-url", "http://127.0.0.1:{port}/v1/query"), {}),
        ((), {"HTTPS_PROXY": "http://127.0.0.1:{port}", "https_proxy": "", "NO_PROXY": ""}),
    ],
    ids=["nothing-listening", "proxy-refusing"],
)
def test_an_unreachable_service_is_a_warning_not_a_failure(
    args: tuple[str, ...], env: dict[str, str]
) -> None:
    port = _closed_port()

    audit = _audit(
        *(arg.format(port=port) for arg in args),
        env={name: value.format(port=port) for name, value in env.items()},
    )

    assert audit.code == 0
    assert "WARNING: dependency audit skipped" in audit.stderr


def test_a_service_failing_during_the_audit_is_a_warning(osv: ThreadingHTTPServer) -> None:
    osv.is_failing = True  # type: ignore[attr-defined]

    audit = _audit("--osv-url", _url(osv))

    assert audit.code == 0
    assert "WARNING: dependency audit skipped: osv failed or went away" in audit.stderr
