"""Legacy Infinite Campus credentials for the bridge.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('legacy_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ic_username', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('scheme', sa.String(length=32), nullable=False),
    sa.Column('verifier', sa.String(length=255), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('migrated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("scheme IN ('bcrypt', 'pbkdf2_sha256', 'pbkdf2_sha1', 'salted_sha256')", name=op.f('ck_legacy_credential_scheme')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_legacy_credential_account_id_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_legacy_credential_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legacy_credential'))
    )
    with op.batch_alter_table('legacy_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legacy_credential_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_legacy_credential_person_id'), ['person_id'], unique=False)
        # IC usernames are unique case-insensitively, as portal usernames are.
        batch_op.create_index('uq_legacy_credential_ic_username_lower', [sa.text('lower(ic_username)')], unique=True)


def downgrade():
    with op.batch_alter_table('legacy_credential', schema=None) as batch_op:
        batch_op.drop_index('uq_legacy_credential_ic_username_lower')
        batch_op.drop_index(batch_op.f('ix_legacy_credential_person_id'))
        batch_op.drop_index(batch_op.f('ix_legacy_credential_account_id'))

    op.drop_table('legacy_credential')
