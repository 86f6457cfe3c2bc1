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
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
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
