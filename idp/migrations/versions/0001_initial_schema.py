"""Initial schema: roster, accounts, credentials, keys, outbox, audit, sessions.

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 13:49:58.856219

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _username_check():
    """The FAQ's username rule (8-20 ASCII letters/digits); SQLite has no regex."""
    if op.get_bind().dialect.name == 'postgresql':
        return sa.CheckConstraint("username IS NULL OR username ~ '^[A-Za-z0-9]{8,20}$'", name=op.f('ck_account_username_format_pg'))
    return sa.CheckConstraint("username IS NULL OR (length(username) BETWEEN 8 AND 20 AND username NOT GLOB '*[^A-Za-z0-9]*')", name=op.f('ck_account_username_format_sqlite'))


# Username and email never change once set (they may only be purged to NULL on
# deletion/removal), and audit events are never updated or deleted: enforced by the
# database, so no code path or racing worker can break it.
_TRIGGERS = {
    'postgresql': [
        """
        CREATE FUNCTION account_identity_immutable() RETURNS trigger AS $$
        BEGIN
            IF OLD.username IS NOT NULL AND NEW.username IS NOT NULL
               AND NEW.username <> OLD.username THEN
                RAISE EXCEPTION 'account.username is immutable' USING ERRCODE = 'check_violation';
            END IF;
            IF OLD.email IS NOT NULL AND NEW.email IS NOT NULL AND NEW.email <> OLD.email THEN
                RAISE EXCEPTION 'account.email is immutable' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER account_identity_immutable BEFORE UPDATE OF username, email ON account
        FOR EACH ROW EXECUTE FUNCTION account_identity_immutable()
        """,
        """
        CREATE FUNCTION audit_event_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
        END $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
        """,
    ],
    'sqlite': [
        """
        CREATE TRIGGER account_username_immutable BEFORE UPDATE OF username ON account
        WHEN OLD.username IS NOT NULL AND NEW.username IS NOT NULL
             AND NEW.username IS NOT OLD.username
        BEGIN SELECT RAISE(ABORT, 'account.username is immutable'); END
        """,
        """
        CREATE TRIGGER account_email_immutable BEFORE UPDATE OF email ON account
        WHEN OLD.email IS NOT NULL AND NEW.email IS NOT NULL AND NEW.email IS NOT OLD.email
        BEGIN SELECT RAISE(ABORT, 'account.email is immutable'); END
        """,
        """
        CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END
        """,
        """
        CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END
        """,
    ],
}
_DROP_TRIGGERS = {
    'postgresql': [
        'DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event',
        'DROP FUNCTION IF EXISTS audit_event_append_only()',
        'DROP TRIGGER IF EXISTS account_identity_immutable ON account',
        'DROP FUNCTION IF EXISTS account_identity_immutable()',
    ],
    'sqlite': [
        'DROP TRIGGER IF EXISTS audit_event_no_delete',
        'DROP TRIGGER IF EXISTS audit_event_no_update',
        'DROP TRIGGER IF EXISTS account_email_immutable',
        'DROP TRIGGER IF EXISTS account_username_immutable',
    ],
}


def upgrade():
    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=False),
    sa.Column('actor_account_id', sa.Integer(), nullable=True),
    sa.Column('subject_account_id', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_actor_account_id'), ['actor_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_event'), ['event'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_subject_account_id'), ['subject_account_id'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sis_person_id', sa.String(length=64), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('household_id', sa.String(length=64), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role = 'student' OR birth_date IS NULL", name=op.f('ck_person_birth_date_students_only')),
    sa.CheckConstraint("role IN ('student', 'guardian', 'staff')", name=op.f('ck_person_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('sis_person_id', name=op.f('uq_person_sis_person_id'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_sourced_id'), ['sourced_id'], unique=False)

    op.create_table('school',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sis_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school')),
    sa.UniqueConstraint('sis_id', name=op.f('uq_school_sis_id'))
    )
    op.create_table('sign_in_throttle',
    sa.Column('name_digest', sa.String(length=64), nullable=False),
    sa.Column('failure_count', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name_digest', name=op.f('pk_sign_in_throttle'))
    )
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('communication_channel', sa.String(length=8), nullable=False),
    sa.Column('communication_topics', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("communication_channel IN ('email', 'text', 'both')", name=op.f('ck_account_channel')),
    sa.CheckConstraint("email IS NULL OR email LIKE '%_@_%'", name=op.f('ck_account_email_format')),
    sa.CheckConstraint("kind IN ('guardian', 'student', 'staff')", name=op.f('ck_account_kind')),
    sa.CheckConstraint("locale IN ('en', 'es', 'vi', 'ar', 'so')", name=op.f('ck_account_locale')),
    sa.CheckConstraint("state IN ('pending_email', 'provisioning', 'active', 'disabled', 'deleted', 'cancelled', 'removed')", name=op.f('ck_account_state')),
    _username_check(),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_account_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('sub', name=op.f('uq_account_sub'))
    )
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_last_activity_at'), ['last_activity_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_state'), ['state'], unique=False)
        batch_op.create_index('uq_account_username_lower', [sa.text('lower(username)')], unique=True)
        batch_op.create_index('uq_account_email_lower', [sa.text('lower(email)')], unique=True, postgresql_where=sa.text("state NOT IN ('cancelled', 'deleted', 'removed')"), sqlite_where=sa.text("state NOT IN ('cancelled', 'deleted', 'removed')"))
        batch_op.create_index('uq_account_person_kind', ['person_id', 'kind'], unique=True, postgresql_where=sa.text("state NOT IN ('cancelled', 'deleted', 'removed')"), sqlite_where=sa.text("state NOT IN ('cancelled', 'deleted', 'removed')"))

    op.create_table('enrollment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=8), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_enrollment_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_enrollment_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment')),
    sa.UniqueConstraint('person_id', 'school_id', name=op.f('uq_enrollment_person_id'))
    )
    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollment_school_id'), ['school_id'], unique=False)

    op.create_table('activation_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('key_digest', sa.String(length=64), nullable=False),
    sa.Column('issued_by_account_id', sa.Integer(), nullable=False),
    sa.Column('id_type_seen', sa.String(length=32), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_by_account_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("id_type_seen IN ('drivers_license', 'state_id', 'passport', 'military_id', 'consular_id', 'other')", name=op.f('ck_activation_key_id_type_seen')),
    sa.CheckConstraint('expires_at > issued_at', name=op.f('ck_activation_key_expires_after_issue')),
    sa.ForeignKeyConstraint(['issued_by_account_id'], ['account.id'], name=op.f('fk_activation_key_issued_by_account_id_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_activation_key_person_id_person')),
    sa.ForeignKeyConstraint(['used_by_account_id'], ['account.id'], name=op.f('fk_activation_key_used_by_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activation_key')),
    sa.UniqueConstraint('key_digest', name=op.f('uq_activation_key_key_digest'))
    )
    with op.batch_alter_table('activation_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activation_key_person_id'), ['person_id'], unique=False)

    op.create_table('browser_session',
    sa.Column('id_digest', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_browser_session_account_id_account')),
    sa.PrimaryKeyConstraint('id_digest', name=op.f('pk_browser_session'))
    )
    with op.batch_alter_table('browser_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_browser_session_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_browser_session_expires_at'), ['expires_at'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('context', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'dead')", name=op.f('ck_outbox_status')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_outbox_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_outbox_due', ['status', 'available_at'], unique=False)

    op.create_table('relationship',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('is_legal_guardian', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('restricted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('restricted_by_account_id', sa.Integer(), nullable=True),
    sa.Column('restriction_reason', sa.String(length=500), nullable=True),
    sa.CheckConstraint("kind <> 'relative' OR NOT is_legal_guardian", name=op.f('ck_relationship_relative_not_legal')),
    sa.CheckConstraint("kind IN ('parent', 'guardian', 'relative')", name=op.f('ck_relationship_kind')),
    sa.CheckConstraint('guardian_id <> student_id', name=op.f('ck_relationship_not_self')),
    sa.CheckConstraint('restricted_at IS NULL OR restriction_reason IS NOT NULL', name=op.f('ck_relationship_restriction_reason')),
    sa.ForeignKeyConstraint(['guardian_id'], ['person.id'], name=op.f('fk_relationship_guardian_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['restricted_by_account_id'], ['account.id'], name=op.f('fk_relationship_restricted_by_account_id_account')),
    sa.ForeignKeyConstraint(['student_id'], ['person.id'], name=op.f('fk_relationship_student_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relationship')),
    sa.UniqueConstraint('guardian_id', 'student_id', name=op.f('uq_relationship_guardian_id'))
    )
    with op.batch_alter_table('relationship', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relationship_student_id'), ['student_id'], unique=False)

    op.create_table('security_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=64), nullable=False),
    sa.Column('answer_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_security_answer_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_answer')),
    sa.UniqueConstraint('account_id', 'question_key', name=op.f('uq_security_answer_account_id'))
    )
    op.create_table('staff_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.CheckConstraint("(role = 'district_admin') = (school_id IS NULL)", name=op.f('ck_staff_assignment_district_admin_no_school')),
    sa.CheckConstraint("role IN ('secretary', 'enrollment_specialist', 'school_admin', 'district_admin')", name=op.f('ck_staff_assignment_role')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_staff_assignment_account_id_account')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_staff_assignment_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_assignment')),
    sa.UniqueConstraint('account_id', 'school_id', 'role', name=op.f('uq_staff_assignment_account_id'))
    )
    with op.batch_alter_table('staff_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_assignment_account_id'), ['account_id'], unique=False)

    for statement in _TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    for statement in _DROP_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table('staff_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_assignment_account_id'))

    op.drop_table('staff_assignment')
    op.drop_table('security_answer')
    with op.batch_alter_table('relationship', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relationship_student_id'))

    op.drop_table('relationship')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.drop_index(batch_op.f('ix_outbox_account_id'))

    op.drop_table('outbox')
    with op.batch_alter_table('browser_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_browser_session_expires_at'))
        batch_op.drop_index(batch_op.f('ix_browser_session_account_id'))

    op.drop_table('browser_session')
    with op.batch_alter_table('activation_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activation_key_person_id'))

    op.drop_table('activation_key')
    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrollment_school_id'))

    op.drop_table('enrollment')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index('uq_account_email_lower')
        batch_op.drop_index('uq_account_username_lower')
        batch_op.drop_index('uq_account_person_kind', postgresql_where=sa.text("state NOT IN ('cancelled', 'deleted', 'removed')"), sqlite_where=sa.text("state NOT IN ('cancelled', 'deleted', 'removed')"))
        batch_op.drop_index(batch_op.f('ix_account_state'))
        batch_op.drop_index(batch_op.f('ix_account_person_id'))
        batch_op.drop_index(batch_op.f('ix_account_last_activity_at'))

    op.drop_table('account')
    op.drop_table('sign_in_throttle')
    op.drop_table('school')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_sourced_id'))
        batch_op.drop_index(batch_op.f('ix_person_household_id'))

    op.drop_table('person')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_subject_account_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_event'))
        batch_op.drop_index(batch_op.f('ix_audit_event_actor_account_id'))

    op.drop_table('audit_event')
