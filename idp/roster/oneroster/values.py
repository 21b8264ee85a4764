"""Reading single OneRoster CSV values: strict where a value could mean two things.

Each reader returns the value the IdP uses. A value that is non-standard but has one reading
(`TRUE`, ` active `) comes back with a warning code; one that cannot be read, or could be read
two ways (`1/05/2023`), raises `BadValue`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?\Z"
)

CASE_WARNING = "case"
SPACES_WARNING = "spaces"
DATE_ONLY_WARNING = "date_only"


class BadValue(Exception):  # noqa: N818 - a verdict on a value, raised per refused cell
    """A value the import refuses; `code` names the reason, `params` fill its message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def one_of(value: str, allowed: tuple[str, ...] | frozenset[str]) -> tuple[str, str | None]:
    """The allowed token `value` names; another letter case is read with a warning."""
    if value in allowed:
        return value, None
    folded = value.casefold()
    matches = [token for token in allowed if token.casefold() == folded]
    if len(matches) == 1:
        return matches[0], CASE_WARNING
    raise BadValue("not_one_of", value=value, allowed=", ".join(sorted(allowed)))


def boolean(value: str) -> tuple[bool, str | None]:
    """`true`/`false` (OneRoster's spelling); `TRUE`, `True`… are read with a warning."""
    choice, warning = one_of(value, ("true", "false"))
    return choice == "true", warning


def iso_date(value: str) -> str:
    """A calendar date written YYYY-MM-DD, returned as written; anything else is refused."""
    if _DATE.match(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise BadValue("bad_date", value=value)


def date_time(value: str) -> str | None:
    """Check an ISO 8601 date-time (dateLastModified); a bare YYYY-MM-DD gives a warning."""
    if _DATE_TIME.match(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return None
    if _DATE.match(value):
        iso_date(value)
        return DATE_ONLY_WARNING
    raise BadValue("bad_date_time", value=value)


def id_list(value: str) -> tuple[list[str], str | None]:
    """A comma-separated list of ids; spaces around the ids are removed with a warning."""
    if not value:
        return [], None
    parts = value.split(",")
    cleaned = [part.strip() for part in parts]
    warning = SPACES_WARNING if cleaned != parts else None
    if "" in cleaned:
        raise BadValue("empty_list_item", value=value)
    return cleaned, warning
