"""imports exactly once: rows carry their import and row number; imports a lease and heartbeat

Plain ADD/DROP COLUMN and CREATE INDEX (no batch mode): on SQLite a batch rebuild of
contacts, leads or deals would drop their full-text search triggers.

Revision ID: 0011_imports_exactly_once
Revises: 0009_activities_search
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_imports_exactly_once'
down_revision = '0011_exports_export_jobs'  # re-chained at merge (was 0009_activities_search)
branch_labels = None
depends_on = None

RECORD_TABLES = ("contacts", "leads", "deals")


def upgrade():
    op.add_column('import_jobs', sa.Column('lease_token', sa.String(length=32), nullable=True))
    op.add_column('import_jobs', sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
    for table in RECORD_TABLES:
        op.add_column(table, sa.Column('import_id', sa.Integer(), nullable=True))
        op.add_column(table, sa.Column('import_row', sa.Integer(), nullable=True))
        op.create_index(f'ux_{table}_import_id_import_row', table, ['import_id', 'import_row'], unique=True)


def downgrade():
    for table in RECORD_TABLES:
        op.drop_index(f'ux_{table}_import_id_import_row', table_name=table)
        op.drop_column(table, 'import_row')
        op.drop_column(table, 'import_id')
    op.drop_column('import_jobs', 'heartbeat_at')
    op.drop_column('import_jobs', 'lease_token')
