"""The client generation: one row that every change to oidc_client raises, by trigger.

Each process cached the clients for 30 s, so a client changed by `idp clients sync` (a client
disabled, a redirect URI changed) reached running processes only after that (issue 21.4, found
with Apache mod_auth_openidc). Now each process compares its cache's generation with this row
once per request. The triggers raise it in the transaction of the change, whatever the path
(the sync, another command, SQL typed by hand). The row appears with the first change; until
then the generation is 0.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_RAISE = (
    'INSERT INTO oidc_client_generation (id, generation) VALUES (1, 1)'
    ' ON CONFLICT (id) DO UPDATE SET generation = oidc_client_generation.generation + 1'
)
_TRIGGERS = {
    'postgresql': [
        f"""
        CREATE FUNCTION oidc_client_changed() RETURNS trigger AS $$
        BEGIN
            {_RAISE};
            RETURN NULL;
        END $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER oidc_client_changed AFTER INSERT OR UPDATE OR DELETE ON oidc_client
        FOR EACH STATEMENT EXECUTE FUNCTION oidc_client_changed()
        """,
    ],
    # SQLite has row triggers only, and one event per trigger.
    'sqlite': [
        f"""
        CREATE TRIGGER oidc_client_{event.lower()} AFTER {event} ON oidc_client
        BEGIN {_RAISE}; END
        """
        for event in ('INSERT', 'UPDATE', 'DELETE')
    ],
}
_DROP_TRIGGERS = {
    'postgresql': [
        'DROP TRIGGER IF EXISTS oidc_client_changed ON oidc_client',
        'DROP FUNCTION IF EXISTS oidc_client_changed()',
    ],
    'sqlite': [
        f'DROP TRIGGER IF EXISTS oidc_client_{event}' for event in ('insert', 'update', 'delete')
    ],
}


def upgrade():
    op.create_table('oidc_client_generation',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_oidc_client_generation_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_client_generation'))
    )
    for statement in _TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    for statement in _DROP_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table('oidc_client_generation')
