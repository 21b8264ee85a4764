"""One CSV file of the export: header checks, rows with line numbers, cleaned cells."""

from __future__ import annotations

import csv
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from idp.roster.oneroster import values
from idp.roster.oneroster.report import ImportReport, Problem
from idp.roster.oneroster.source import LineTooLongError
from idp.roster.oneroster.spec import EXTENSION_PREFIX, STATUSES, FileSpec

_SPACE = (" ", "\t")


@dataclass(frozen=True)
class FileContext:
    """What a file is read against: its spec, the OneRoster version and its manifest mode."""

    spec: FileSpec
    version: str
    mode: str
    report: ImportReport
    # Required columns the district's policy adds to the spec's (roster.person_id_column).
    extra_columns: tuple[str, ...] = ()

    @property
    def is_bulk(self) -> bool:
        """True for a bulk file (the complete set), False for a delta file."""
        return self.mode == "bulk"


class Table:
    """Reads one file row by row; records errors and warnings at `file:line:column`."""

    def __init__(self, context: FileContext, text: Iterable[str]) -> None:
        self.context = context
        self.file = context.spec.name
        self.line = 1
        self.width = 0
        self.index: dict[str, int] = {}
        # Lines were skipped (wrong number of values, unreadable text): checks across files
        # would then report what is missing as errors of their own.
        self.is_damaged = False
        self._reader = csv.reader(text, strict=True)
        self._report = context.report

    # Problems ---------------------------------------------------------------------------------

    def error(self, code: str, column: str | None, **params: Any) -> None:
        """An error at the current line."""
        self._report.error(Problem(code, self.file, self.line, column, params))

    def warn(self, code: str, column: str | None, **params: Any) -> None:
        """A warning at the current line (grouped in the report)."""
        self._report.warn(Problem(code, self.file, self.line, column, params))

    # Header -----------------------------------------------------------------------------------

    def read_header(self) -> bool:
        """Check the header; False if a required column is missing (rows cannot be read)."""
        try:
            header = next(self._reader)
        except StopIteration:
            self.error("empty_file", None)
            return False
        except (csv.Error, UnicodeDecodeError) as problem:
            self.error("unreadable", None, reason=str(problem))
            return False
        except LineTooLongError as too_long:
            self._refuse_line(too_long)
            return False
        self.width = len(header)
        self._index_header(header)
        required = (*self.context.spec.required, *self.context.extra_columns)
        missing = [name for name in dict.fromkeys(required) if name not in self.index]
        for name in missing:
            self.error("missing_column", name)
        for name in self.context.spec.columns[self.context.version]:
            if name not in self.index and name not in required:
                self.warn("optional_column", name)
        return not missing

    def _index_header(self, header: list[str]) -> None:
        known = {*self.context.spec.columns[self.context.version], *self.context.extra_columns}
        for number, raw in enumerate(header, start=1):
            name = self._clean(raw, None)
            if not name:
                self.error("unnamed_column", None, number=number)
            elif name in self.index:
                self.error("duplicate_column", name)
            else:
                self.index[name] = number - 1
                if name not in known and not name.startswith(EXTENSION_PREFIX):
                    spec = self.context.spec
                    self.error("unknown_column", name, version=self.context.version, file=spec.name)

    # Rows -------------------------------------------------------------------------------------

    def rows(self) -> Iterator[list[str]]:
        """The data rows; `self.line` is each row's line number. Bad rows are reported."""
        reader, width = self._reader, self.width
        try:
            for row in reader:
                self.line = reader.line_num
                if len(row) == width:
                    yield row
                elif row:  # a blank line is skipped, as the csv module's readers do
                    self.error("field_count", None, found=len(row), expected=width)
                    self.is_damaged = True
        except (csv.Error, UnicodeDecodeError) as problem:
            self.line = reader.line_num
            self.error("unreadable", None, reason=str(problem))
            self.is_damaged = True
        except LineTooLongError as too_long:
            self._refuse_line(too_long)

    def _refuse_line(self, too_long: LineTooLongError) -> None:
        """The line after the last one the csv module read is too long: the file stops there."""
        self.line = self._reader.line_num + 1
        self.error("line_too_long", None, limit=f"{too_long.limit:,}")
        self.is_damaged = True

    def fetcher(self, columns: tuple[str, ...]) -> Callable[[list[str]], tuple[str, ...]]:
        """A function giving a row's values of `columns` ('' for a column the file lacks),
        without surrounding spaces (a warning each) and NUL characters (an error each). Built
        once per file: per row it costs one itemgetter, one join and a few substring tests."""
        indexes = [self.index.get(column) for column in columns]
        pick: Callable[[list[str]], tuple[str, ...]]
        if None in indexes or len(indexes) < 2:

            def pick(row: list[str]) -> tuple[str, ...]:
                return tuple("" if index is None else row[index] for index in indexes)

        else:
            pick = operator.itemgetter(*cast(list[int], indexes))

        def fetch(row: list[str]) -> tuple[str, ...]:
            found: tuple[str, ...] = pick(row)
            joined = "\x1f".join(found)
            # Python 3.11's csv module reads NUL; PostgreSQL cannot store it in text.
            if _has_edge_space(joined) or "\x00" in joined:
                return tuple(
                    self._clean(value, column) for value, column in zip(found, columns, strict=True)
                )
            return found

        return fetch

    def _clean(self, value: str, column: str | None) -> str:
        stripped = value.strip()
        if stripped != value:
            self.warn("spaces", column, value=value)
        if "\x00" in stripped:
            self.error("nul_character", column)
            stripped = stripped.replace("\x00", "")
        return stripped

    # Values (fast when the value is right, reporting otherwise) --------------------------------

    def required(self, value: str, column: str, limit: int) -> str | None:
        """A value that must be present and fit `limit` characters; None (reported) if not."""
        if value and len(value) <= limit:
            return value
        if not value:
            self.error("required_value", column)
        else:
            self.error("too_long", column, limit=limit, length=len(value))
        return None

    def optional(self, value: str, column: str, limit: int) -> str | None:
        """An optional value (None if empty) that must fit `limit` characters."""
        if not value:
            return None
        return self.required(value, column, limit)

    def token(self, value: str, column: str, allowed: Any) -> str | None:
        """The allowed token `value` names (another letter case warns); None if none."""
        if not value:
            self.error("required_value", column)
            return None
        try:
            token, warning = values.one_of(value, allowed)
        except values.BadValue as bad:
            self.error(bad.code, column, **bad.params)
            return None
        if warning:
            self.warn(warning, column, value=value, canonical=token)
        return token

    def is_deleted(self, status: str, modified: str) -> bool | None:
        """Whether the row says `tobedeleted` (None if its status is wrong)."""
        if not status and not modified:
            return False
        if modified:
            self._check_modified(modified)
        if not status:
            return False
        if self.context.is_bulk:
            self.warn("bulk_filled", "status")
        choice = self.token(status, "status", STATUSES)
        return None if choice is None else choice == "tobedeleted"

    def _check_modified(self, value: str) -> None:
        if self.context.is_bulk:
            self.warn("bulk_filled", "dateLastModified")
        try:
            warning = values.date_time(value)
        except values.BadValue as bad:
            self.error(bad.code, "dateLastModified", **bad.params)
            return
        if warning:
            self.warn(warning, "dateLastModified", value=value)

    def date(self, value: str, column: str) -> str | None:
        """An optional YYYY-MM-DD date (None if empty or refused)."""
        if not value:
            return None
        try:
            return values.iso_date(value)
        except values.BadValue as bad:
            self.error(bad.code, column, **bad.params)
            return None

    def ids(self, value: str, column: str) -> list[str]:
        """A comma-separated list of sourcedIds ([] if empty or refused)."""
        if not value:
            return []
        items = value.split(",")
        if " " not in value and "\t" not in value and "" not in items:
            return items
        try:
            items, warning = values.id_list(value)
        except values.BadValue as bad:
            self.error(bad.code, column, **bad.params)
            return []
        if warning:
            self.warn(warning, column, value=value)
        return items


def _has_edge_space(joined: str) -> bool:
    """True if a value of the `\\x1f`-joined row starts or ends with a space or tab."""
    return (
        joined[:1] in _SPACE
        or joined[-1:] in _SPACE
        or " \x1f" in joined
        or "\x1f " in joined
        or "\t\x1f" in joined
        or "\x1f\t" in joined
    )
