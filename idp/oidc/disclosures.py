"""The record of disclosures (FERPA, 34 CFR 99.32): which app received data about which
students, when, and for which account.

Every ID token and userinfo answer that carries the `students` (or `student_ids`) claim writes
ONE audit event, `oidc:students:disclosed`, in the transaction that issues the answer: the
token request's unit of work, or userinfo's own single INSERT (that request writes nothing
else, so the INSERT is its whole transaction; it runs before the answer leaves). Its subject is
the account; its `data` holds `client_id`, `response` ("id_token" or "userinfo"; the key
`answer` is kept for security answers and refused) and `student_ids`: the `id` of each
`students` entry, i.e. the SIS Person ID, the stable id the roster matches students by across
imports. The ids are read back from the answer after it is built, so the record holds what was
sent and nothing else; the visible-students read that built the claim leaves out restricted
children, and the record cannot add one. An answer that names no student (a scope without
`students`, a guardian who sees nobody yet, a student's own `student` claim) records nothing.

Why the audit log and not a table of its own: DESIGN.md gives idp/audit the disclosure events;
the log is already append-only (triggers refuse UPDATE and DELETE), tagged with the request id
and written by one prebuilt INSERT; and the staff console reads one log. "Which apps received
data about this student" is a partial GIN index of `data -> 'student_ids'` over these events
only (audit/models.py, migration 0014): index-backed on PostgreSQL, and no cost to the other
events. SQLite reads the ids with json_each, unindexed.

The console reads the record with `disclosures_about_student` and `disclosures_to_account`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc.jws import extract_compact
from sqlalchemy import ColumnElement, RowMapping, bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from idp.audit.models import DISCLOSED_STUDENT_IDS, DISCLOSURE_EVENT, IS_DISCLOSURE, AuditEvent
from idp.audit.service import AuditLog
from idp.oidc.models import OidcClient
from idp.roster.models import Person

ID_TOKEN = "id_token"  # noqa: S105 - the name of an answer, not a secret
USERINFO = "userinfo"


def sent_student_ids(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The student ids an answer's claims carry, in the order sent, each once."""
    entries = claims.get("students") or []
    ids = [entry["id"] for entry in entries] + list(claims.get("student_ids") or [])
    return tuple(dict.fromkeys(ids))


def claims_of_jwt(value: str | bytes) -> dict[str, Any]:
    """The claims of a JWT we have just signed (an ID token, a signed userinfo answer)."""
    compact = value.encode() if isinstance(value, str) else value
    payload: dict[str, Any] = json.loads(extract_compact(compact).payload)
    return payload


class DisclosureLog:
    """Writes the record of disclosures: one audit event per answer that sent students."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def record(
        self, sent: Mapping[str, Any], *, client_id: str, account_id: int, answer: str
    ) -> None:
        """Record the students in `sent` (the claims of an answer) as disclosed to the client."""
        student_ids = sent_student_ids(sent)
        if not student_ids:
            return
        self._audit.record(
            DISCLOSURE_EVENT,
            subject_id=account_id,
            client_id=client_id,
            response=answer,  # "answer" is refused: audit data never holds security answers
            student_ids=list(student_ids),
        )


@dataclass(frozen=True)
class Disclosure:
    """One answer that disclosed students: to which client, for which account, when."""

    at: datetime
    client_id: str
    client_name: str | None  # None when the client is no longer registered
    account_id: int
    answer: str
    student_ids: tuple[str, ...]


def disclosures_about_student(
    session: Session, student_person_id: int, limit: int = 100
) -> list[Disclosure]:
    """The answers that disclosed this student (a Person id), newest first."""
    sis_person_id = session.execute(
        select(Person.sis_person_id).where(Person.id == student_person_id)
    ).scalar_one_or_none()
    if sis_person_id is None:
        return []
    return _read(session, _names_student(session, sis_person_id), limit)


def disclosures_to_account(session: Session, account_id: int, limit: int = 100) -> list[Disclosure]:
    """The answers that disclosed students for this account, newest first."""
    return _read(session, AuditEvent.subject_account_id == account_id, limit)


def _names_student(session: Session, sis_person_id: str) -> ColumnElement[bool]:
    """The disclosure sent this student id: the GIN index on PostgreSQL, json_each on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        sent = bindparam("sent", [sis_person_id], type_=JSONB)
        contains: ColumnElement[bool] = DISCLOSED_STUDENT_IDS.op("@>", is_comparison=True)(sent)
        return contains
    each = func.json_each(AuditEvent.data, "$.student_ids").table_valued("value")
    return exists().where(each.c.value == sis_person_id)


def _read(session: Session, condition: ColumnElement[bool], limit: int) -> list[Disclosure]:
    client_id = AuditEvent.data["client_id"].as_string()
    query = (
        select(AuditEvent.occurred_at, AuditEvent.subject_account_id, AuditEvent.data)
        .add_columns(OidcClient.name.label("client_name"))
        .outerjoin(OidcClient, OidcClient.client_id == client_id)
        .where(IS_DISCLOSURE, condition)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return [_disclosure(row._mapping) for row in session.execute(query)]


def _disclosure(row: RowMapping) -> Disclosure:
    data: Mapping[str, Any] = row["data"]
    student_ids: Sequence[str] = data["student_ids"]
    return Disclosure(
        at=row["occurred_at"],
        client_id=data["client_id"],
        client_name=row["client_name"],
        account_id=row["subject_account_id"],
        answer=data["response"],
        student_ids=tuple(student_ids),
    )
