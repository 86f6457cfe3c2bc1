"""`flask db upgrade` from empty gives the models' schema, and downgrade/upgrade round-trips.

Runs the real command in a subprocess against a scratch SQLite file, and also against a
scratch schema of the PostgreSQL database when DATABASE_URL points at PostgreSQL.
"""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from app.extensions import db
from app.pipelines.search import is_search_object

ROOT = Path(__file__).resolve().parents[2]


def _flask(url: str, tmp_path, *args) -> None:
    env = dict(os.environ, DATABASE_URL=url, TRELLIS_INSTANCE=str(tmp_path), SECRET_KEY="migration-test",
               FLASK_APP="wsgi")
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


def _differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # The full-text search objects are not in the models (see app.pipelines.search).
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "include_name": lambda name, type_, parents: not is_search_object(name)})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        return {name for name in names if not is_search_object(name)}
    finally:
        engine.dispose()


def _check_round_trip(url: str, tmp_path) -> None:
    _flask(url, tmp_path, "db", "upgrade")
    assert _differences(url) == []
    assert _tables(url) == set(db.metadata.tables)
    _flask(url, tmp_path, "db", "downgrade", "base")
    assert _tables(url) == set()
    _flask(url, tmp_path, "db", "upgrade")
    assert _differences(url) == []


def test_sqlite_upgrade_matches_models_and_round_trips(tmp_path):
    _check_round_trip(f"sqlite:///{tmp_path / 'migrated.db'}", tmp_path)


@pytest.mark.postgres
def test_postgresql_upgrade_matches_models_and_round_trips(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("DATABASE_URL is not PostgreSQL (CI runs this with the local PostgreSQL)")
    schema = f"migcheck_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    try:
        _check_round_trip(scoped, tmp_path)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_sqlite_upgrade_keeps_existing_rows(tmp_path):
    """Upgrading a database that holds data keeps it: parent and child rows survive."""
    url = f"sqlite:///{tmp_path / 'cascade.db'}"
    _flask(url, tmp_path, "db", "upgrade", "0001_platform")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO businesses (id, name, slug, currency, timezone, plan, subscription_status,"
                          " enforce_subscription, demo_mode, created_at, updated_at) VALUES (1, 'B', 'b', 'USD',"
                          " 'UTC', 'free', 'active', 0, 0, '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO locations (id, business_id, name, is_active, created_at, updated_at)"
                          " VALUES (7, 1, 'Shop', 1, '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO users (id, business_id, first_name, language, status, allow_login,"
                          " is_cmmsn_agnt, selected_contacts, location_scope, session_nonce, created_at, updated_at)"
                          " VALUES (3, 1, 'Ann', 'en', 'active', 1, 0, 0, 'locations', 0, '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO user_locations (user_id, location_id) VALUES (3, 7)"))
    engine.dispose()
    _flask(url, tmp_path, "db", "upgrade")
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT user_id, location_id FROM user_locations")).all() == [(3, 7)]
        assert conn.execute(text("SELECT version FROM locations WHERE id = 7")).scalar() == 1
    engine.dispose()


def test_roles_that_held_user_update_keep_what_it_covered(tmp_path):
    """0013 carries user.update over to the permissions it was split into."""
    url = f"sqlite:///{tmp_path / 'split.db'}"
    _flask(url, tmp_path, "db", "upgrade", "0011_imports_exactly_once")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO businesses (id, name, slug, currency, timezone, plan, subscription_status,"
                              " enforce_subscription, demo_mode, created_at, updated_at) VALUES (1, 'Acme', 'acme',"
                              " 'USD', 'UTC', 'free', 'active', false, false, '2026-01-01', '2026-01-01')"))
            conn.execute(text("INSERT INTO permissions (id, name, guard_name) VALUES (1, 'user.update', 'web'),"
                              " (2, 'user.view', 'web')"))
            conn.execute(text("INSERT INTO roles (id, business_id, name, guard_name, is_default, is_service_staff,"
                              " created_at, updated_at) VALUES"
                              " (1, 1, 'Manager#1', 'web', false, false, '2026-01-01', '2026-01-01'),"
                              " (2, 1, 'Viewer#1', 'web', false, false, '2026-01-01', '2026-01-01')"))
            conn.execute(text("INSERT INTO role_permissions (role_id, permission_id) VALUES (1, 1), (2, 2)"))
        _flask(url, tmp_path, "db", "upgrade")
        with engine.connect() as conn:
            held = conn.execute(text(
                "SELECT r.name, p.name FROM role_permissions rp JOIN roles r ON r.id = rp.role_id"
                " JOIN permissions p ON p.id = rp.permission_id ORDER BY r.name, p.name")).all()
    finally:
        engine.dispose()
    assert held == [("Manager#1", "user.access"), ("Manager#1", "user.assign_role"),
                    ("Manager#1", "user.reset_password"), ("Manager#1", "user.tokens"),
                    ("Manager#1", "user.update"), ("Viewer#1", "user.view")]
