"""OpenID Connect: clients, signing keys, SSO sessions, codes, tokens, consents.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:11:43.667282

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oidc_client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('secret_digest', sa.String(length=64), nullable=True),
    sa.Column('token_endpoint_auth_method', sa.String(length=32), nullable=False),
    sa.Column('redirect_uris', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('post_logout_redirect_uris', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('backchannel_logout_uri', sa.String(length=2000), nullable=True),
    sa.Column('grant_types', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('is_first_party', sa.Boolean(), nullable=False),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('id_token_signed_response_alg', sa.String(length=8), nullable=True),
    sa.Column('access_token_minutes', sa.Integer(), nullable=True),
    sa.Column('source_file', sa.String(length=255), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(token_endpoint_auth_method = 'none') = (secret_digest IS NULL)", name=op.f('ck_oidc_client_public_clients_have_no_secret')),
    sa.CheckConstraint("token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt')", name=op.f('ck_oidc_client_auth_method')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_client')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oidc_client_client_id'))
    )
    op.create_table('oidc_signing_key',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('alg', sa.String(length=8), nullable=False),
    sa.Column('public_jwk', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('private_key_encrypted', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unpublish_after', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("alg IN ('RS256', 'ES256')", name=op.f('ck_oidc_signing_key_alg')),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_oidc_signing_key'))
    )
    op.create_table('oidc_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('scope_set', sa.String(length=1000), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_oidc_consent_account_id_account')),
    sa.ForeignKeyConstraint(['client_id'], ['oidc_client.client_id'], name=op.f('fk_oidc_consent_client_id_oidc_client')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_consent')),
    sa.UniqueConstraint('account_id', 'client_id', 'scope_set', name=op.f('uq_oidc_consent_account_id'))
    )
    with op.batch_alter_table('oidc_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_consent_account_id'), ['account_id'], unique=False)

    op.create_table('oidc_sso_session',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('auth_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amr', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('acr', sa.String(length=64), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_oidc_sso_session_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_sso_session')),
    sa.UniqueConstraint('sid', name=op.f('uq_oidc_sso_session_sid'))
    )
    with op.batch_alter_table('oidc_sso_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_sso_session_account_id'), ['account_id'], unique=False)

    op.create_table('oidc_authorization_code',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_digest', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('sso_session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('nonce', sa.Text(), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=8), nullable=True),
    sa.Column('claims_request', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('auth_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acr', sa.String(length=64), nullable=True),
    sa.Column('amr', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_oidc_authorization_code_account_id_account')),
    sa.ForeignKeyConstraint(['client_id'], ['oidc_client.client_id'], name=op.f('fk_oidc_authorization_code_client_id_oidc_client')),
    sa.ForeignKeyConstraint(['sso_session_id'], ['oidc_sso_session.id'], name=op.f('fk_oidc_authorization_code_sso_session_id_oidc_sso_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_authorization_code')),
    sa.UniqueConstraint('code_digest', name=op.f('uq_oidc_authorization_code_code_digest'))
    )
    with op.batch_alter_table('oidc_authorization_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_authorization_code_account_id'), ['account_id'], unique=False)

    op.create_table('oidc_sso_session_client',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sso_session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['oidc_client.client_id'], name=op.f('fk_oidc_sso_session_client_client_id_oidc_client')),
    sa.ForeignKeyConstraint(['sso_session_id'], ['oidc_sso_session.id'], name=op.f('fk_oidc_sso_session_client_sso_session_id_oidc_sso_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_sso_session_client')),
    sa.UniqueConstraint('sso_session_id', 'client_id', name=op.f('uq_oidc_sso_session_client_sso_session_id'))
    )
    op.create_table('oidc_token',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('access_token_digest', sa.String(length=64), nullable=False),
    sa.Column('refresh_token_digest', sa.String(length=64), nullable=True),
    sa.Column('family_id', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('authorization_code_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('sso_session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('grant_type', sa.String(length=32), nullable=False),
    sa.Column('auth_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('amr', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('acr', sa.String(length=64), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('access_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('refresh_idle_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('family_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_oidc_token_account_id_account')),
    sa.ForeignKeyConstraint(['authorization_code_id'], ['oidc_authorization_code.id'], name=op.f('fk_oidc_token_authorization_code_id_oidc_authorization_code')),
    sa.ForeignKeyConstraint(['client_id'], ['oidc_client.client_id'], name=op.f('fk_oidc_token_client_id_oidc_client')),
    sa.ForeignKeyConstraint(['sso_session_id'], ['oidc_sso_session.id'], name=op.f('fk_oidc_token_sso_session_id_oidc_sso_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_token')),
    sa.UniqueConstraint('access_token_digest', name=op.f('uq_oidc_token_access_token_digest')),
    sa.UniqueConstraint('refresh_token_digest', name=op.f('uq_oidc_token_refresh_token_digest'))
    )
    with op.batch_alter_table('oidc_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_token_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_token_authorization_code_id'), ['authorization_code_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_token_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_token_family_id'), ['family_id'], unique=False)



def downgrade():
    with op.batch_alter_table('oidc_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_token_family_id'))
        batch_op.drop_index(batch_op.f('ix_oidc_token_client_id'))
        batch_op.drop_index(batch_op.f('ix_oidc_token_authorization_code_id'))
        batch_op.drop_index(batch_op.f('ix_oidc_token_account_id'))

    op.drop_table('oidc_token')
    op.drop_table('oidc_sso_session_client')
    with op.batch_alter_table('oidc_authorization_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_authorization_code_account_id'))

    op.drop_table('oidc_authorization_code')
    with op.batch_alter_table('oidc_sso_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_sso_session_account_id'))

    op.drop_table('oidc_sso_session')
    with op.batch_alter_table('oidc_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_consent_account_id'))

    op.drop_table('oidc_consent')
    op.drop_table('oidc_signing_key')
    op.drop_table('oidc_client')
