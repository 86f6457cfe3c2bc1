"""job abilities: import and export jobs keep the abilities of the credential that started them

The worker builds its actor from the job's user *and* these abilities, so an API token's
narrowing survives into the job (NULL: a browser session, the role alone decides).
Plain ADD/DROP COLUMN (no batch mode), as 0011_imports_exactly_once explains.

Revision ID: 0014_job_abilities
Revises: 0013_user_update_split
"""
from alembic import op
import sqlalchemy as sa

revision = '0014_job_abilities'
down_revision = '0013_user_update_split'
branch_labels = None
depends_on = None

TABLES = ("import_jobs", "export_jobs")


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column('abilities', sa.JSON(), nullable=True))


def downgrade():
    for table in TABLES:
        op.drop_column(table, 'abilities')
