"""The import report: every error as `file:line:column: reason`, warnings grouped, counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext, lazy_ngettext

from idp.roster.oneroster.messages import ERRORS, WARNINGS, render

# Errors kept word for word; beyond this many the report counts them (a systematic defect in
# a million-line file would otherwise print a million lines and hold them all in memory).
MAX_LISTED_ERRORS = 1000
ENTITIES = ("schools", "persons", "relationships", "enrollments")

_ENTITY_LABELS = {
    "schools": lazy_gettext("schools"),
    "persons": lazy_gettext("persons"),
    "relationships": lazy_gettext("relationships"),
    "enrollments": lazy_gettext("enrolments"),
}


@dataclass(frozen=True)
class Problem:
    """One error or warning at `file:line:column` (line and column may be unknown)."""

    code: str
    file: str
    line: int | None = None
    column: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def location(self) -> str:
        """`file:line:column`, leaving out the parts that are not known."""
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
        if self.column is not None:
            parts.append(self.column)
        return ":".join(parts)


@dataclass
class WarningGroup:
    """The warnings of one kind in one column of one file: the first, and how many."""

    first: Problem
    count: int = 1


@dataclass
class EntityCounts:
    """What the import did to one kind of record."""

    created: int = 0
    updated: int = 0
    deactivated: int = 0


@dataclass
class ImportReport:
    """Everything an operator needs to know about one import."""

    errors: list[Problem] = field(default_factory=list)
    error_count: int = 0
    warnings: dict[tuple[str, str | None, str], WarningGroup] = field(default_factory=dict)
    counts: dict[str, EntityCounts] = field(
        default_factory=lambda: {entity: EntityCounts() for entity in ENTITIES}
    )
    rows_read: dict[str, int] = field(default_factory=dict)
    staff_ignored: int = 0
    is_applied: bool = False

    @property
    def has_errors(self) -> bool:
        """True if the import was refused."""
        return self.error_count > 0

    def error(self, problem: Problem) -> None:
        """Record an error; the first MAX_LISTED_ERRORS are kept word for word."""
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(problem)

    def warn(self, problem: Problem) -> None:
        """Record a warning, grouped with the others of its kind, file and column."""
        key = (problem.file, problem.column, problem.code)
        group = self.warnings.get(key)
        if group is None:
            self.warnings[key] = WarningGroup(problem)
        else:
            group.count += 1

    def error_lines(self) -> list[str]:
        """Every listed error as `file:line:column: reason`, sorted by place."""
        ordered = sorted(self.errors, key=_place)
        lines = [f"{problem.location()}: {_message(ERRORS, problem)}" for problem in ordered]
        unlisted = self.error_count - len(self.errors)
        if unlisted:
            lines.append(
                str(
                    lazy_ngettext("… and %(num)s more error", "… and %(num)s more errors", unlisted)
                )
            )
        return lines

    def warning_lines(self) -> list[str]:
        """One line per group of warnings: where it first happened, what, and how often."""
        groups = sorted(self.warnings.values(), key=lambda group: _place(group.first))
        lines = []
        for group in groups:
            text = f"{group.first.location()}: {_message(WARNINGS, group.first)}"
            if group.count > 1:
                count = lazy_ngettext("%(num)s line", "%(num)s lines", group.count)
                text = f"{text} ({count})"
            lines.append(text)
        return lines

    def count_lines(self) -> list[str]:
        """Created, updated and deactivated records per entity."""
        template = lazy_gettext(
            "%(entity)s: %(created)s created, %(updated)s updated, %(deactivated)s deactivated"
        )
        return [
            render(
                template,
                {
                    "entity": str(_ENTITY_LABELS[entity]),
                    "created": counts.created,
                    "updated": counts.updated,
                    "deactivated": counts.deactivated,
                },
            )
            for entity, counts in self.counts.items()
        ]


def _place(problem: Problem) -> tuple[str, int, str]:
    return (problem.file, problem.line or 0, problem.column or "")


def _message(templates: Any, problem: Problem) -> str:
    return render(templates[problem.code], problem.params)
