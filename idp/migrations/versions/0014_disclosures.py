"""The record of disclosures: "which apps received data about this student" by index.

Each token or userinfo answer that carries students writes one `oidc:students:disclosed` audit
event, the student ids it sent in `data` (idp/oidc/disclosures.py). On PostgreSQL a GIN index
of those ids, over these events only, answers the per-student look-up; SQLite has no such
index (json_each reads the events unindexed), so nothing changes there.

The index is built CONCURRENTLY, outside the migration's transaction: audit_event is written
on every sign-in, and a plain CREATE INDEX would hold those writes back while it reads the
whole table.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_INDEX = 'ix_audit_event_disclosed_student_ids'


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    with op.get_context().autocommit_block():
        op.execute(
            f"CREATE INDEX CONCURRENTLY {_INDEX} ON audit_event"
            " USING gin ((data -> 'student_ids') jsonb_path_ops)"
            " WHERE event = 'oidc:students:disclosed'"
        )


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    with op.get_context().autocommit_block():
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {_INDEX}')
