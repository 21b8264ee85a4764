"""Where the staff console's read models used to live; they moved (the queries room holds a
capability's prebuilt hot-path statements, STYLE.md 1) to records.py (the frozen records),
person_page.py (issue 16.4) and dashboard.py (issue 16.7).

Holds no code: it re-exports them for the importers not moved yet (desk.py's
`queries.person_page` and `queries.dashboard`, web/staff_people.py, web/staff_actions.py).
Import from the new modules, and remove this one with the last importer.
"""

from __future__ import annotations

from idp.staff.dashboard import dashboard
from idp.staff.person_page import person_page
from idp.staff.records import (
    AccountSummary,
    AppUse,
    AuditLine,
    LiveSession,
    LockReader,
    OutstandingKey,
    PendingConfirmation,
    PersonPage,
    PersonSummary,
    RelationshipLine,
    SchoolDashboard,
    SchoolEnrollment,
    SignInNames,
    StaffRole,
)

__all__ = [
    "AccountSummary",
    "AppUse",
    "AuditLine",
    "LiveSession",
    "LockReader",
    "OutstandingKey",
    "PendingConfirmation",
    "PersonPage",
    "PersonSummary",
    "RelationshipLine",
    "SchoolDashboard",
    "SchoolEnrollment",
    "SignInNames",
    "StaffRole",
    "dashboard",
    "person_page",
]
