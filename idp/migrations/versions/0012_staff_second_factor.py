"""The staff second factor: a TOTP authenticator per staff account and its recovery codes.

The TOTP secret is stored Fernet-encrypted with the key-encryption key, the recovery codes as
HMAC digests only (idp/staff/second_factor.py). Both go with their account (ON DELETE CASCADE).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 22:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_second_factor',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_step', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_staff_second_factor_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_staff_second_factor'))
    )
    op.create_table('staff_recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('code_digest', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_staff_recovery_code_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_recovery_code')),
    sa.UniqueConstraint('code_digest', name=op.f('uq_staff_recovery_code_code_digest'))
    )
    # A plain CREATE INDEX (no batch mode needed for a new table's index on SQLite).
    op.create_index(op.f('ix_staff_recovery_code_account_id'), 'staff_recovery_code', ['account_id'], unique=False)
    # One district-admin row per account (NULL schools escape the unique constraint).
    op.create_index('uq_staff_assignment_district_admin', 'staff_assignment', ['account_id'],
                    unique=True, postgresql_where=sa.text('school_id IS NULL'),
                    sqlite_where=sa.text('school_id IS NULL'))


def downgrade():
    op.drop_index('uq_staff_assignment_district_admin', table_name='staff_assignment')
    op.drop_index(op.f('ix_staff_recovery_code_account_id'), table_name='staff_recovery_code')
    op.drop_table('staff_recovery_code')
    op.drop_table('staff_second_factor')
