"""SQLite: writers take the write lock when their transaction begins (BEGIN IMMEDIATE),
so a job or form post that reads, then writes, never fails with "database is locked"
because someone else committed in between; read-only requests begin deferred and run
beside a writer. Savepoints still work."""
import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, func, select, text, update

from app.core import sqlite as sqlite_transactions
from app.core.models import as_utc, utcnow
from app.extensions import db
from tests.conftest import make_token


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


# --- writes a read-only request makes: never "database is locked" -------------------------

@contextmanager
def commit_from_elsewhere_after(app, sqlite_path, table: str):
    """Deterministic race: right after the request's first read of `table` (its deferred
    read snapshot has begun), another connection commits a write, as the other gunicorn
    worker or the outbox dispatch did. The request's own write of that snapshot then met
    SQLITE_BUSY_SNAPSHOT ("database is locked"), which busy_timeout cannot help."""
    fired = []

    def after_read(conn, cursor, statement, parameters, context, executemany):
        if not fired and statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement:
            fired.append(statement)
            other = sqlite3.connect(sqlite_path, timeout=10)
            other.execute("UPDATE businesses SET name = name || '.'")  # a real change (a no-op is no commit)
            other.commit()
            other.close()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", after_read)
    try:
        yield fired
    finally:
        event.remove(engine, "after_cursor_execute", after_read)


def _make_old(app, model, column: str, row_id: int) -> None:
    with app.app_context():
        db.session.execute(update(model.__table__).where(model.__table__.c.id == row_id)
                           .values({column: utcnow() - timedelta(hours=1)}))
        db.session.commit()


def _read(app, model, column: str, row_id: int):
    with app.app_context():
        return db.session.execute(select(getattr(model.__table__.c, column))
                                  .where(model.__table__.c.id == row_id)).scalar_one()


def test_a_token_read_records_its_use_though_another_writer_committed_in_between(app, acme, sqlite_path):
    from app.auth.models import AccessToken

    plain = make_token(app, acme.owner_id)
    token_id = int(plain.split("|")[0])
    _make_old(app, AccessToken, "last_used_at", token_id)  # the once-a-minute write is due
    client = app.test_client()
    with commit_from_elsewhere_after(app, sqlite_path, "access_tokens") as fired:
        response = client.get("/api/v1/locations", headers={"Authorization": f"Bearer {plain}"})
    assert fired  # the race happened
    assert response.status_code == 200, response.get_data(as_text=True)  # was 500 "database is locked"
    assert utcnow() - as_utc(_read(app, AccessToken, "last_used_at", token_id)) < timedelta(minutes=1)


def test_a_page_view_records_the_session_though_another_writer_committed_in_between(
        app, acme, owner_browser, sqlite_path):
    from app.auth.models import UserSession

    with app.app_context():
        session_id = db.session.execute(select(UserSession.__table__.c.id)).scalar_one()
    _make_old(app, UserSession, "last_seen_at", session_id)
    with commit_from_elsewhere_after(app, sqlite_path, "user_sessions") as fired:
        response = owner_browser.get("/team/locations/")
    assert fired
    assert response.status_code == 200  # was 500 "database is locked"
    assert utcnow() - as_utc(_read(app, UserSession, "last_seen_at", session_id)) < timedelta(minutes=1)


def test_defaults_made_on_first_view_though_another_writer_committed_in_between(
        app, acme, api, owner_browser, sqlite_path):
    from app.pipelines.models import ContactStatus, Pipeline, Stage

    with app.app_context():  # a business from before pipelines and statuses existed
        db.session.execute(delete(Stage.__table__))
        db.session.execute(delete(Pipeline.__table__))
        db.session.execute(delete(ContactStatus.__table__))
        db.session.commit()
    with commit_from_elsewhere_after(app, sqlite_path, "pipelines") as fired:
        response = api.get("/api/v1/pipelines")
    assert fired
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [p["name"] for p in response.get_json()["data"]] == ["Sales"]
    with commit_from_elsewhere_after(app, sqlite_path, "contact_statuses") as fired:
        response = owner_browser.get("/pipelines/contacts/")
    assert fired
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pipeline.__table__)) == 1  # once
        assert db.session.scalar(select(func.count()).select_from(ContactStatus.__table__)) == 2


def test_bookkeeping_that_cannot_get_the_lock_does_not_fail_the_request(app, acme, sqlite_path, caplog):
    from app.auth.models import AccessToken

    plain = make_token(app, acme.owner_id)
    token_id = int(plain.split("|")[0])
    _make_old(app, AccessToken, "last_used_at", token_id)
    with app.app_context():
        db.engine.pool.dispose()  # new connections pick up the short busy timeout below
    holder = sqlite3.connect(sqlite_path, timeout=10, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a writer that keeps the lock past the busy timeout
    try:
        with app.app_context():
            engine = db.engine

        def short_wait(dbapi_connection, record):
            dbapi_connection.execute("PRAGMA busy_timeout=200")

        event.listen(engine, "connect", short_wait)
        try:
            with caplog.at_level(logging.DEBUG, logger="app.core.sqlite"):
                response = app.test_client().get("/api/v1/locations", headers={"Authorization": f"Bearer {plain}"})
        finally:
            event.remove(engine, "connect", short_wait)
            engine.pool.dispose()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "bookkeeping write skipped" in caplog.text


def test_a_large_csv_get_queues_its_export_though_another_writer_committed_in_between(
        app, acme, api, sqlite_path):
    from app.pipelines.models import ExportJob
    from tests.pipelines.factories import add_contacts

    add_contacts(app, acme, *({"first_name": f"C{n}", "status": "Customer"} for n in range(3)))
    before = app.config["EXPORT_STREAM_LIMIT"]
    app.config["EXPORT_STREAM_LIMIT"] = 2  # over 2 rows: a job
    try:
        with commit_from_elsewhere_after(app, sqlite_path, "contacts") as fired:
            response = api.get("/api/v1/contacts?format=csv")
    finally:
        app.config["EXPORT_STREAM_LIMIT"] = before
    assert fired
    assert response.status_code == 202, response.get_data(as_text=True)  # was 500 "database is locked"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExportJob.__table__)) == 1
