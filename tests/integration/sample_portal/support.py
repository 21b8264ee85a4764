"""The sample portal apps against a real provider: registrations on free ports, a family.

Helpers (not fixtures) shared by the integration tests here and the browser journey.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from clients.sample_portal import PortalSettings, create_portal
from clients.sample_portal.settings import from_registration
from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.config import PROJECT_ROOT
from idp.extensions import db
from idp.oidc.clients import ClientRegistry
from idp.roster.models import Person, Relationship, School
from idp.services import Services
from tests.builders import enroll, make_account, make_person, make_school, relate
from tests.conftest import committed
from tests.integration.oidc.conftest import SECRETS
from tests.integration.oidc.live import serve

PORTAL_APPS = ("grades", "attendance")
# The port each shipped registration names (clients/grades.toml, clients/attendance.toml).
SHIPPED_PORTS = {"grades": 5001, "attendance": 5002}
# Not in policies/rollout.toml: its portal is not open, whatever the date.
CLOSED_SCHOOL = ("TEST-HS9", "Hillcrest High")


@dataclass(frozen=True)
class Apps:
    """The base URLs of the provider and of the running sample apps."""

    provider: str
    grades: str
    attendance: str


class RpClock:
    """The sample app's wall clock, which a test may move ahead (the provider keeps its own)."""

    def __init__(self) -> None:
        self.offset_seconds = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset_seconds  # noqa: TID251 - the relying party's clock


def write_registrations(directory: Path, ports: Mapping[str, int]) -> Path:
    """Copies of the shipped grades and attendance registrations, moved to `ports`."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in PORTAL_APPS:
        text = (PROJECT_ROOT / "clients" / f"{name}.toml").read_text(encoding="utf-8")
        shipped = f"127.0.0.1:{SHIPPED_PORTS[name]}"
        (directory / f"{name}.toml").write_text(
            text.replace(shipped, f"127.0.0.1:{ports[name]}"), encoding="utf-8"
        )
    return directory


def register_portal_apps(services: Services, clock: FrozenClock, directory: Path) -> None:
    """Register the apps of `directory` with the provider (as `idp clients sync`), and keys."""
    known = frozenset(services.claims.supported_scopes())
    with committed():
        ClientRegistry(db.session, clock, known, env="test").sync(directory, SECRETS)
    services.keys.ensure_keys()


def portal_settings(
    directory: Path, name: str, issuer: str, now: RpClock | None = None
) -> PortalSettings:
    """An app's settings read from its registration file, as `python -m` does."""
    settings = from_registration(directory / f"{name}.toml", SECRETS, issuer, "k" * 32)
    return settings if now is None else replace(settings, now=now)


@contextmanager
def serve_portal(settings: PortalSettings) -> Iterator[str]:
    """One sample app on the loopback port of its base URL; yields the URL."""
    with serve(create_portal(settings), int(urlsplit(settings.base_url).port or 80)) as url:
        yield url


@dataclass(frozen=True)
class Family:
    """A guardian account and what the roster says about its children."""

    account: Account
    guardian: Person
    visible: tuple[str, ...]  # given names the guardian may see, oldest first
    ids: dict[str, str]  # given name -> student id (SIS Person ID), hidden children included
    relationships: dict[str, Relationship]  # given name -> the guardian's relationship


def _child(given: str, born: date, school: School, grade: str) -> Person:
    child = make_person("student", born, given_name=given, family_name="Nguyen")
    enroll(child, school, grade)
    return child


def make_family(services: Services, clock: FrozenClock, username: str = "parentuser1") -> Family:
    """A guardian with three visible children of different ages (made youngest first, so the
    order is the provider's doing), one restricted and one at a school not open yet."""
    account = make_account(services, username=username)
    guardian = make_person("guardian")
    account.person_id = guardian.id
    high = make_school("DEMO-HS1", "Northfield High")
    children = [
        _child("Ava", date(2018, 1, 20), make_school("DEMO-ES1", "Lakeview Elementary"), "02"),
        _child("Leo", date(2014, 9, 15), make_school("DEMO-MS1", "Riverside Middle"), "06"),
        _child("Maya", date(2011, 5, 2), high, "09"),
        _child("Zoe", date(2012, 3, 3), make_school(*CLOSED_SCHOOL), "08"),
        _child("Noah", date(2010, 6, 6), high, "11"),
    ]
    relationships = {child.given_name: relate(guardian, child, "parent") for child in children}
    restrict(relationships["Noah"], clock)
    db.session.commit()
    return Family(
        account=account,
        guardian=guardian,
        visible=("Maya", "Leo", "Ava"),
        ids={child.given_name: child.sis_person_id for child in children},
        relationships=relationships,
    )


def restrict(relationship: Relationship, clock: FrozenClock) -> None:
    """Restrict a guardian's access to one student, as staff do (the row, not the service)."""
    relationship.restricted_at = clock.now()
    relationship.restriction_reason = "court order"


_TAB = re.compile(r'<a href="/my-kids\?student=([^"]+)"\s*(aria-current="page")?>([^<]*)</a>')
_CHILD_NAME = re.compile(r'<h2 id="child-name">([^<]*)</h2>')


def child_tabs(html: str) -> list[tuple[str, bool]]:
    """The My Kids tabs in page order: (given name, is it the selected one)."""
    return [(name, bool(current)) for _, current, name in _TAB.findall(html)]


def tab_ids(html: str) -> list[str]:
    """The student ids the My Kids tabs link to, in page order."""
    return [student_id for student_id, _, _ in _TAB.findall(html)]


def shown_child(html: str) -> str | None:
    """The name of the child whose details the page shows."""
    match = _CHILD_NAME.search(html)
    return match.group(1) if match else None
