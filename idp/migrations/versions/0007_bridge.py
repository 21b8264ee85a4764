"""Infinite Campus bridge: credentials first seen through the verification URL (scheme remote).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_WITH_REMOTE = "scheme IN ('bcrypt', 'pbkdf2_sha256', 'pbkdf2_sha1', 'salted_sha256', 'remote')"
_WITHOUT_REMOTE = "scheme IN ('bcrypt', 'pbkdf2_sha256', 'pbkdf2_sha1', 'salted_sha256')"


_IC_USERNAME_INDEX = 'uq_legacy_credential_ic_username_lower'


def _replace_scheme_check(condition):
    # batch mode: SQLite rebuilds the table, PostgreSQL alters it in place. SQLite's rebuild
    # cannot reflect the expression index on lower(ic_username) and would lose it: it is
    # dropped first and made again after, on both databases alike.
    op.drop_index(_IC_USERNAME_INDEX, table_name='legacy_credential')
    # resolve_fks=False: the rebuild needs only this table, not the account table it refers to.
    with op.batch_alter_table(
        'legacy_credential', schema=None, reflect_kwargs={'resolve_fks': False}
    ) as batch_op:
        batch_op.drop_constraint(op.f('ck_legacy_credential_scheme'), type_='check')
        batch_op.create_check_constraint(op.f('ck_legacy_credential_scheme'), condition)
    op.create_index(
        _IC_USERNAME_INDEX, 'legacy_credential', [sa.text('lower(ic_username)')], unique=True
    )


def upgrade():
    # IDP_BRIDGE_MODE=http keeps a row per IC username that the district's URL accepted (its
    # Person, when it was migrated) but no hash: scheme 'remote', verifier ''.
    _replace_scheme_check(_WITH_REMOTE)


def downgrade():
    op.execute("DELETE FROM legacy_credential WHERE scheme = 'remote'")
    _replace_scheme_check(_WITHOUT_REMOTE)
