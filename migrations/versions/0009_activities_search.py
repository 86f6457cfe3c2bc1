"""Full-text search of contacts, leads, accounts and deals

SQLite: FTS5 tables search_<kind> filled from the existing rows and kept in step by
triggers. PostgreSQL: GIN indexes on to_tsvector('simple', ...) of each table, and
pg_trgm trigram indexes when the extension is (or can be made) available.
The SQL comes from app.pipelines.search, which the queries use too, so the two agree.

Revision ID: 0009_activities_search
Revises: 0006_audit_log
Create Date: 2026-11-22 13:10:00

"""
from alembic import op

from app.pipelines import search

# revision identifiers, used by Alembic.
revision = '0009_activities_search'
down_revision = '0006_audit_log'  # main's head when merged (the brief said 0005_crm; re-chain freely)
branch_labels = None
depends_on = None


def upgrade():
    search.create_search_objects(op.get_bind())


def downgrade():
    search.drop_search_objects(op.get_bind())
