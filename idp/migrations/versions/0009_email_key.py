"""Email uniqueness by a stored key (NFKC + Unicode case folding) instead of lower(email).

SQLite's lower() folds ASCII letters only, so "Élise@example.org" and "élise@example.org"
could both hold an account (issue 14, found by a hypothesis property). The key is computed in
Python (idp.accounts.rules.email_key), the same on every database.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 15:40:00.000000

"""
import unicodedata

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_RELEASED_SQL = "state NOT IN ('cancelled', 'deleted', 'removed')"


def _key(email):
    # Frozen copy of idp.accounts.rules.email_key as of this revision.
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def upgrade():
    # Plain ALTER TABLE / CREATE INDEX (no batch mode): SQLite keeps the account triggers.
    op.add_column('account', sa.Column('email_key', sa.String(length=1024), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text('SELECT id, email FROM account WHERE email IS NOT NULL'))
    update = sa.text('UPDATE account SET email_key = :key WHERE id = :id')
    for row in rows.fetchall():
        connection.execute(update, {'key': _key(row.email), 'id': row.id})
    op.create_index(
        'uq_account_email_key', 'account', ['email_key'], unique=True,
        postgresql_where=sa.text(_RELEASED_SQL), sqlite_where=sa.text(_RELEASED_SQL),
    )
    op.drop_index('uq_account_email_lower', table_name='account')


def downgrade():
    op.create_index(
        'uq_account_email_lower', 'account', [sa.text('lower(email)')], unique=True,
        postgresql_where=sa.text(_RELEASED_SQL), sqlite_where=sa.text(_RELEASED_SQL),
    )
    op.drop_index('uq_account_email_key', table_name='account')
    op.drop_column('account', 'email_key')
