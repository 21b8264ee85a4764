"""Student sign-in finds a student by the upper-case SIS Person ID: index that expression.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 19:55:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # Without it every student sign-in reads the whole person table (a million rows at
    # district scale): idp/credentials/students.py compares upper(sis_person_id).
    op.create_index('ix_person_sis_person_id_upper', 'person', [sa.text('upper(sis_person_id)')])


def downgrade():
    op.drop_index('ix_person_sis_person_id_upper', table_name='person')
