"""SQLite: writers take the write lock when their transaction begins (BEGIN IMMEDIATE),
so a job or form post that reads, then writes, never fails with "database is locked"
because someone else committed in between; read-only requests begin deferred and run
beside a writer. Savepoints still work."""
import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select, text

from app.core import sqlite as sqlite_transactions
from app.extensions import db


@pytest.fixture
def sqlite_path(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's locking only")
        return db.engine.url.database


def test_a_writer_that_read_first_is_not_failed_by_a_commit_in_between(app, acme, sqlite_path):
    from app.core.tenancy import tenant_scope
    from app.locations.models import Location

    other_done = threading.Event()

    def other_writer():  # e.g. the worker's outbox dispatch, or a web request
        conn = sqlite3.connect(sqlite_path, timeout=10)
        conn.execute("UPDATE businesses SET name = name WHERE id = ?", (acme.business_id,))
        conn.commit()
        conn.close()
        other_done.set()

    with app.app_context(), tenant_scope(acme.business_id):  # a job: no request
        db.session.scalar(select(func.count()).select_from(Location))  # reads first: BEGIN IMMEDIATE
        thread = threading.Thread(target=other_writer)
        thread.start()
        time.sleep(0.3)
        assert not other_done.is_set()  # it waits for our write lock instead of committing under us
        db.session.add(Location(name="Written after reading", code="W1"))
        db.session.commit()  # deferred, this raised "database is locked" (SQLITE_BUSY_SNAPSHOT)
        thread.join(10)
        assert other_done.is_set()
        assert db.session.scalar(select(func.count()).select_from(Location)) == 1


def test_read_only_requests_begin_deferred_and_writers_immediate(app):
    with app.test_request_context("/contacts", method="GET"):
        assert sqlite_transactions.begin_statement() == "BEGIN"
    with app.test_request_context("/contacts", method="POST"):
        assert sqlite_transactions.begin_statement() == "BEGIN IMMEDIATE"
    with app.app_context():  # jobs and commands
        assert sqlite_transactions.begin_statement() == "BEGIN IMMEDIATE"


def test_a_read_only_request_is_not_held_up_by_a_writer(app, owner_browser, sqlite_path):
    holder = sqlite3.connect(sqlite_path, timeout=10, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # an import batch holding the write lock
    try:
        started = time.monotonic()
        assert owner_browser.get("/pipelines/import-export/").status_code == 200
        assert time.monotonic() - started < 5  # not queued behind the writer (busy timeout is 15 s)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_savepoints_roll_back_alone(app, acme, sqlite_path):
    from app.core.tenancy import tenant_scope
    from app.locations.models import Location

    with app.app_context(), tenant_scope(acme.business_id):
        db.session.add(Location(name="Kept", code="K1"))
        savepoint = db.session.begin_nested()
        db.session.add(Location(name="Dropped", code="D1"))
        db.session.flush()
        savepoint.rollback()
        db.session.commit()
        assert list(db.session.scalars(select(Location.name))) == ["Kept"]
        assert db.session.execute(text("select 1")).scalar() == 1
