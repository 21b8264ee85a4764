"""The mass-deactivation guard: a bulk users.csv that would deactivate too much is refused.

A bulk users.csv deactivates every student and guardian it no longer lists, with their
relationships: the export of another district, or an empty users.csv, would take the whole
roster's access away at once. So an import whose bulk users.csv deactivates more than
`[roster] max_deactivation_share_percent` (policies/rollout.toml) of the persons active before
it, or of the relationships active before it, is refused like any other error (all or nothing)
unless run with --allow-mass-deactivation. The import is applied inside its transaction and
then measured: exact, and the refusal rolls back with the rest. A person counts when they were
active before and are not after (no longer listed, tobedeleted, or enabledUser false).

A small roster: up to ALWAYS_ALLOWED deactivations of each kind pass whatever their share. On
a school of 40 people one family leaving is already over 10 %; a first import (nothing active)
is never refused. Delta files are not measured: they name each person they deactivate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from idp.roster.oneroster.report import ImportReport, Problem
from idp.roster.oneroster.spec import USERS
from idp.roster.oneroster.sql import Sql

ALWAYS_ALLOWED = 10

_ACTIVE_PERSONS = (
    "SELECT id AS person_id FROM person WHERE is_active AND role IN ('student', 'guardian')"
)
_ACTIVE_RELATIONSHIPS = "SELECT count(*) FROM relationship WHERE is_active"
_PERSONS_BEFORE = "SELECT count(*) FROM roster_was_active"
_PERSONS_DEACTIVATED = (
    "SELECT count(*) FROM person p JOIN roster_was_active a ON a.person_id = p.id"
    " WHERE NOT p.is_active"
)


@dataclass(frozen=True)
class Deactivation:
    """How many of the records active before the import it deactivates."""

    count: int
    total: int

    def is_over(self, share_percent: int) -> bool:
        """True past ALWAYS_ALLOWED and past `share_percent` of the active records."""
        return self.count > ALWAYS_ALLOWED and self.count * 100 > share_percent * self.total

    def params(self, share_percent: int) -> dict[str, str]:
        """The message's numbers; the share rounded up, so that it never reads as the limit."""
        percent = math.ceil(self.count * 1000 / self.total) / 10 if self.total else 0.0
        return {
            "count": f"{self.count:,}",
            "total": f"{self.total:,}",
            "percent": f"{percent:g}",
            "limit": str(share_percent),
        }


class DeactivationGuard:
    """Measures one bulk import's deactivations: `start` before applying, `check` after."""

    def __init__(self, sql: Sql, share_percent: int) -> None:
        self._sql = sql
        self._share_percent = share_percent
        self._relationships_before = 0

    def start(self) -> None:
        """Remember who is active before the import changes anything."""
        self._sql.derive("roster_was_active", _ACTIVE_PERSONS, "person_id")
        self._relationships_before = self._sql.scalar(_ACTIVE_RELATIONSHIPS)

    def check(self, report: ImportReport) -> None:
        """Record an error per kind of record deactivated past the policy's share."""
        persons = Deactivation(
            self._sql.scalar(_PERSONS_DEACTIVATED), self._sql.scalar(_PERSONS_BEFORE)
        )
        # A relationship becomes inactive only through the bulk "no longer listed" update,
        # which counts exactly those that were active.
        relationships = Deactivation(
            report.counts["relationships"].deactivated, self._relationships_before
        )
        for code, measured in (
            ("mass_deactivation_persons", persons),
            ("mass_deactivation_relationships", relationships),
        ):
            if measured.is_over(self._share_percent):
                params = measured.params(self._share_percent)
                report.error(Problem(code, USERS.name, params=params))
