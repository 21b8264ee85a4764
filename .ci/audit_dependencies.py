#!/usr/bin/env python3
"""Known vulnerabilities in the installed dependencies (pip-audit), safe without a network.

    .venv/bin/python .ci/audit_dependencies.py [--service osv|pypi] [--osv-url URL]

Exit 1 when the advisory service answers and reports a known vulnerability in a package of this
environment (the project itself, installed editable, is skipped), or when pip-audit fails for
any reason other than the network. Exit 0, with a WARNING on stderr, when the service cannot
be reached: no network, a proxy refusing, DNS failing, or a mirror that serves packages but not
the advisory API (pip-audit's own `pypi` service then skips every package as "not found" and
reports success: this script says that nothing was checked instead).

How it tells them apart: it first asks the service one question whose answer it knows the shape
of (OSV: a query for the installed `pip`; PyPI: that release's JSON, as pip-audit asks), with
the same library, proxy and certificate settings as pip-audit (requests). No well-formed
answer: unreachable, a warning.
Then pip-audit runs with JSON output; its report decides. Should the service fail or go away in
between (a network error, an HTTP 5xx), pip-audit stops without a report: a warning too. Any
other failure of pip-audit fails the audit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import requests

OSV_URL = "https://api.osv.dev/v1/query"
# What pip-audit's pypi service asks for each package: the JSON of one release.
PYPI_RELEASE_URL = "https://pypi.org/pypi/{name}/{version}/json"
# pip-audit's stderr when it stopped because the service failed or went away while it ran:
# requests' exceptions, pip-audit's ConnectionError advice, its ServiceError (an HTTP 5xx).
SERVICE_FAILURES = (
    "requests.exceptions.",
    "Tip: your network may be blocking this service",
    "pip_audit._service.interface.ServiceError",
)


def warn(message: str) -> None:
    """A warning that CI logs show, without failing the run."""
    print(f"WARNING: dependency audit skipped: {message}", file=sys.stderr)


def unreachable_reason(service: str, osv_url: str, timeout: float) -> str | None:
    """Why the advisory service cannot answer, or None if it answers as expected."""
    pip = {"name": "pip", "version": metadata.version("pip")}  # installed here, so published
    try:
        if service == "osv":
            query = {"package": {"name": "pip", "ecosystem": "PyPI"}, "version": pip["version"]}
            response = requests.post(osv_url, data=json.dumps(query), timeout=timeout)
        else:
            response = requests.get(PYPI_RELEASE_URL.format(**pip), timeout=timeout)
    except requests.RequestException as error:
        return f"{type(error).__name__} while contacting {service}"
    if response.status_code != requests.codes.ok:
        return f"{service} answered HTTP {response.status_code}"
    try:
        document = response.json()
    except ValueError:
        return f"{service} answered something that is not JSON"
    if not isinstance(document, dict) or (service == "pypi" and "info" not in document):
        return f"{service} answered JSON of an unexpected shape"
    return None


def run_pip_audit(args: argparse.Namespace, report: Path) -> subprocess.CompletedProcess[str]:
    """pip-audit on this interpreter's environment, its JSON report written to `report`."""
    command = [sys.executable, "-m", "pip_audit", "--local", "--skip-editable"]
    command += ["--progress-spinner", "off", "--format", "json", "--output", str(report)]
    command += ["--vulnerability-service", args.service, "--timeout", str(int(args.timeout))]
    command += ["--desc", "off", "--aliases", "on"]
    if args.service == "osv":
        command += ["--osv-url", args.osv_url]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def judge(document: dict[str, Any], service: str) -> int:
    """Print what the report says; 1 if it lists a known vulnerability."""
    dependencies = document.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            aliases = ", ".join(vuln.get("aliases", []))
            print(
                f"VULNERABLE: {dependency['name']} {dependency['version']}: {vuln['id']}"
                f"{f' ({aliases})' if aliases else ''}; fixed in {fixed}"
            )
    if vulnerable:
        print(f"dependency audit ({service}): {len(vulnerable)} vulnerable package(s)")
        return 1
    if not audited:
        warn(f"{service} could not audit any of the {len(skipped)} packages (not found there)")
        return 0
    for dependency in skipped:
        print(f"not audited: {dependency['name']}: {dependency['skip_reason']}")
    print(f"dependency audit ({service}): {len(audited)} packages, no known vulnerability")
    return 0


def main() -> int:
    """Probe, audit, judge."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", choices=("osv", "pypi"), default="osv")
    parser.add_argument("--osv-url", default=OSV_URL, help="the OSV query API (tests use a fake)")
    parser.add_argument("--timeout", type=float, default=15, help="seconds per request (15)")
    args = parser.parse_args()
    reason = unreachable_reason(args.service, args.osv_url, args.timeout)
    if reason is not None:
        warn(reason)
        return 0
    with tempfile.TemporaryDirectory(prefix="pip-audit-") as workdir:
        report = Path(workdir) / "report.json"
        finished = run_pip_audit(args, report)
        text = report.read_text() if report.exists() else ""
    if text.strip():
        return judge(json.loads(text), args.service)
    if any(marker in finished.stderr for marker in SERVICE_FAILURES):
        warn(f"{args.service} failed or went away while pip-audit ran")
        return 0
    print(finished.stderr, file=sys.stderr)
    print(f"dependency audit: pip-audit failed (exit {finished.returncode})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
