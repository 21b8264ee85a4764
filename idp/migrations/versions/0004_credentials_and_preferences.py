"""Growing lockouts, and the contact details shown read-only in Preferences.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 17:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        # How many times in a row this name was locked: each lock lasts twice the one before.
        batch_op.add_column(sa.Column('lock_count', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('person', schema=None) as batch_op:
        # From the SIS roster; shown read-only (the FAQ: changed at the school, never here).
        batch_op.add_column(sa.Column('phone', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('address')
        batch_op.drop_column('phone')
    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.drop_column('lock_count')
