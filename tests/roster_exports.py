"""Small hand-built OneRoster exports for the roster import tests (written into tmp_path).

`Export` holds rows as dicts (missing columns are written empty) and writes them as CSV with
a manifest; tests change a row or a mode and write again.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from idp.roster.oneroster.spec import (
    CLASSES,
    DEMOGRAPHICS,
    ENROLLMENTS,
    ORGS,
    ROLES,
    USERS,
    FileSpec,
)

Row = dict[str, str]
_SPECS = {spec.key: spec for spec in (ORGS, CLASSES, USERS, ROLES, ENROLLMENTS, DEMOGRAPHICS)}


@dataclass
class Export:
    """One OneRoster export: rows per file, a mode per file, the version."""

    version: str = "1.1"
    rows: dict[str, list[Row]] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    # Columns written after the spec's (extensions such as metadata.*), per file.
    extra_columns: dict[str, list[str]] = field(default_factory=dict)

    def write(self, folder: Path) -> Path:
        """Write every file with rows, and manifest.csv; return the folder."""
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.glob("*.csv"):
            path.unlink()
        for key, rows in self.rows.items():
            header = [*_SPECS[key].columns[self.version], *self.extra_columns.get(key, [])]
            write_csv(folder / f"{key}.csv", header, rows)
        manifest = [("manifest.version", "1.0"), ("oneroster.version", self.version)]
        for key in _SPECS:
            if self.version in _SPECS[key].columns:
                mode = self.modes.get(key, "bulk" if key in self.rows else "absent")
                manifest.append((f"file.{key}", mode))
        with (folder / "manifest.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("propertyName", "value"))
            writer.writerows(manifest)
        return folder

    def row(self, key: str, sourced_id: str) -> Row:
        """The row of file `key` whose sourcedId is `sourced_id`."""
        return next(row for row in self.rows[key] if row["sourcedId"] == sourced_id)


def write_csv(path: Path, header: tuple[str, ...] | list[str], rows: list[Row]) -> None:
    """A CSV file with `header`, each row's values in header order ('' when absent)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(column, "") for column in header])


def user(sourced_id: str, role: str, identifier: str, name: str, **fields: str) -> Row:
    """A users.csv row; `name` is 'Given Family'."""
    given, family = name.split(" ")
    return {
        "sourcedId": sourced_id,
        "enabledUser": "true",
        "role": role,
        "username": identifier.lower() or sourced_id,
        "givenName": given,
        "familyName": family,
        "identifier": identifier,
        **fields,
    }


def district_11() -> Export:
    """Two schools; Ana (grade 03, Lakeview) and Ben (grade 07, Riverside); Maria is both
    children's parent, Jose Ana's relative, Carla Ben's guardian; a teacher who is not
    imported. Agents are listed on both sides, or on one side only (Carla)."""
    return Export(
        rows={
            "orgs": [
                {"sourcedId": "org-d", "name": "District", "type": "district", "identifier": "D"},
                _school("org-es1", "DEMO-ES1", "Lakeview Elementary"),
                _school("org-ms1", "DEMO-MS1", "Riverside Middle"),
            ],
            "classes": [
                {"sourcedId": "cls-es1", "title": "Homeroom", "schoolSourcedId": "org-es1"},
            ],
            "users": [
                user("u-ana", "student", "S1001", "Ana Lopez", orgSourcedIds="org-es1",
                     agentSourcedIds="u-maria,u-jose", grades="03,04"),
                user("u-ben", "student", "S1002", "Ben Lopez", orgSourcedIds="org-ms1",
                     agentSourcedIds="u-maria", grades="07"),
                user("u-maria", "parent", "G2001", "Maria Lopez", orgSourcedIds="org-d",
                     agentSourcedIds="u-ana,u-ben", phone="555-0101"),
                user("u-jose", "relative", "G2002", "Jose Lopez", orgSourcedIds="org-d",
                     agentSourcedIds="u-ana"),
                user("u-carla", "guardian", "G2003", "Carla Diaz", orgSourcedIds="org-d",
                     agentSourcedIds="u-ben"),
                user("u-teacher", "teacher", "", "Tea Cher", orgSourcedIds="org-es1"),
            ],
            "enrollments": [
                _enrollment("enr-1", "cls-es1", "org-es1", "u-ana", "student"),
                _enrollment("enr-2", "cls-es1", "org-es1", "u-teacher", "teacher"),
            ],
            "demographics": [
                {"sourcedId": "u-ana", "birthDate": "2016-04-17"},
                {"sourcedId": "u-ben", "birthDate": "2012-01-05"},
            ],
        }
    )  # fmt: skip


def district_12() -> Export:
    """The same district as OneRoster 1.2: roles in roles.csv, users without role/orgs.
    Maria's primary role is teacher and her secondary role parent: she is imported as a
    parent (staff accounts are not imported)."""
    export = district_11()
    export.version = "1.2"
    roles = []
    for row in export.rows["users"]:
        role, org = row.pop("role"), row.pop("orgSourcedIds")
        role_type = "primary"
        if row["sourcedId"] == "u-maria":
            roles.append(_role("r-maria-t", "u-maria", "primary", "teacher", "org-es1"))
            role_type = "secondary"
        roles.append(_role(f"r-{row['sourcedId']}", row["sourcedId"], role_type, role, org))
    export.rows["roles"] = roles
    return export


def _school(sourced_id: str, identifier: str, name: str) -> Row:
    return {"sourcedId": sourced_id, "name": name, "type": "school", "identifier": identifier}


def _enrollment(sourced_id: str, class_id: str, school: str, user_id: str, role: str) -> Row:
    return {
        "sourcedId": sourced_id,
        "classSourcedId": class_id,
        "schoolSourcedId": school,
        "userSourcedId": user_id,
        "role": role,
    }


def _role(sourced_id: str, user_id: str, role_type: str, role: str, org: str) -> Row:
    return {
        "sourcedId": sourced_id,
        "userSourcedId": user_id,
        "roleType": role_type,
        "role": role,
        "orgSourcedId": org,
    }


def spec(key: str) -> FileSpec:
    """The FileSpec of file `key` (orgs, users...)."""
    return _SPECS[key]
