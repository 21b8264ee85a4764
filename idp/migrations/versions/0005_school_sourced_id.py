"""OneRoster import: a school's sourcedId, to place delta enrolments at known schools.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        # Enrolments name schools by sourcedId; the school itself is matched by sis_id (the
        # org's identifier), which survives an SIS upgrade that changes every sourcedId.
        batch_op.add_column(sa.Column('sourced_id', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_school_sourced_id'), ['sourced_id'], unique=False)


def downgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_sourced_id'))
        batch_op.drop_column('sourced_id')
