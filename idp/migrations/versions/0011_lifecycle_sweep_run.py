"""When the daily lifecycle sweep last ran: one row of its own (issue 15.6).

The worker decided whether the sweep was due by reading the audit log for the last
`lifecycle:sweep:ran` event, and two workers starting together both swept. Now each claims
the run by moving this row's `last_ran_at` in one guarded statement. The row starts from the
last such event, so the upgrade itself does not cause an extra sweep.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lifecycle_sweep_run',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_ran_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_lifecycle_sweep_run_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lifecycle_sweep_run'))
    )
    op.execute(
        "INSERT INTO lifecycle_sweep_run (id, last_ran_at)"
        " SELECT 1, last FROM ("
        "   SELECT max(occurred_at) AS last FROM audit_event"
        "   WHERE event = 'lifecycle:sweep:ran'"
        " ) AS runs WHERE last IS NOT NULL"
    )


def downgrade():
    op.drop_table('lifecycle_sweep_run')
