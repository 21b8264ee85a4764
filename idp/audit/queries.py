"""The audit log's prebuilt statement, built once at import."""

from __future__ import annotations

from sqlalchemy import bindparam, insert

from idp.audit.models import AuditEvent
from idp.sqltypes import UtcDateTime

# Every sign-in and token family writes one event: a plain INSERT, no ORM unit of work
# (AuditLog.record).
INSERT_EVENT = insert(AuditEvent).values(
    occurred_at=bindparam("at", type_=UtcDateTime()),
    event=bindparam("name"),
    actor_account_id=bindparam("actor"),
    subject_account_id=bindparam("subject"),
    request_id=bindparam("request"),
    data=bindparam("payload", type_=AuditEvent.__table__.c.data.type),
)
