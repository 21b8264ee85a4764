"""Inactivity warnings sent once per idle period, and usernames reserved after deletion.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 19:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account', schema=None) as batch_op:
        # When the "will be disabled" / "will be deleted" email was queued; a warning counts
        # for the idle period it was sent in (sent after the last activity), so each is sent once.
        batch_op.add_column(sa.Column('disable_warned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('delete_warned_at', sa.DateTime(timezone=True), nullable=True))
    # accounts.toml usernames.is_reserved_after_deletion: the deleted account's row no longer
    # holds its username (personal data), so its SHA-256 keeps it from being given again.
    op.create_table(
        'reserved_username',
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('reserved_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('digest', name=op.f('pk_reserved_username')),
    )


def downgrade():
    op.drop_table('reserved_username')
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+): batch mode would rebuild `account` and trip
    # over its expression indexes and triggers.
    op.drop_column('account', 'delete_warned_at')
    op.drop_column('account', 'disable_warned_at')
