"""user.update split: roles that held it keep what it used to cover

Before the escalation fix `user.update` also covered a user's role, access, reset and
tokens; those are now `user.assign_role`, `user.access`, `user.reset_password` and
`user.tokens`. Existing roles keep what they could do (every one of those actions is now
bounded by what the actor holds, so carrying them over reopens nothing).

Revision ID: 0013_user_update_split
Revises: 0011_imports_exactly_once
"""
from alembic import op
import sqlalchemy as sa

revision = '0013_user_update_split'
down_revision = '0011_imports_exactly_once'
branch_labels = None
depends_on = None

SPLIT_FROM = "user.update"
NEW = ("user.assign_role", "user.access", "user.reset_password", "user.tokens")

permissions = sa.table("permissions", sa.column("id", sa.Integer), sa.column("name", sa.String),
                       sa.column("guard_name", sa.String))
role_permissions = sa.table("role_permissions", sa.column("role_id", sa.Integer),
                            sa.column("permission_id", sa.Integer))


def _permission_id(bind, name):
    return bind.execute(sa.select(permissions.c.id).where(permissions.c.name == name)).scalar()


def upgrade():
    bind = op.get_bind()
    source = _permission_id(bind, SPLIT_FROM)
    if source is None:
        return  # a fresh database: nothing to carry over
    holders = [row[0] for row in bind.execute(
        sa.select(role_permissions.c.role_id).where(role_permissions.c.permission_id == source))]
    for name in NEW:
        target = _permission_id(bind, name)
        if target is None:
            bind.execute(permissions.insert().values(name=name, guard_name="web"))
            target = _permission_id(bind, name)
        have = {row[0] for row in bind.execute(
            sa.select(role_permissions.c.role_id).where(role_permissions.c.permission_id == target))}
        rows = [{"role_id": role_id, "permission_id": target} for role_id in holders if role_id not in have]
        if rows:
            bind.execute(role_permissions.insert(), rows)


def downgrade():
    pass  # the split permissions stay; they grant nothing user.update did not
