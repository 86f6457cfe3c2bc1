"""SQLite transactions that take the write lock up front.

pysqlite's own transaction handling opens a *deferred* transaction, just before the first
INSERT/UPDATE. A request or job that reads first and writes later therefore asks for the
write lock late, and in WAL mode it fails at once with "database is locked" whenever
another writer committed after its first read (SQLITE_BUSY_SNAPSHOT: its snapshot is
stale, so the busy timeout cannot help). That is how a CSV import died against the
worker's own outbox dispatch.

So pysqlite's handling is switched off (`isolation_level = None`, SQLAlchemy's documented
recipe for pysqlite) and every transaction is begun here:

- `BEGIN IMMEDIATE` (take the write lock now, waiting up to busy_timeout for it) for
  everything that may write: jobs, CLI commands, and requests other than GET/HEAD/OPTIONS;
- a plain deferred `BEGIN` for read-only requests. In WAL mode readers never wait for
  the writer, so page views, API reads and the import's progress polling keep running
  while an import holds the write lock; an engine-wide BEGIN IMMEDIATE would queue every
  one of them behind each import batch. Measured, with a writer holding the lock 0.5 s of
  every 0.6 s: the contacts page took at most 13 ms this way, up to 239 ms with
  engine-wide BEGIN IMMEDIATE (a wait as long as the writer's transaction: seconds for an
  import batch on a busy machine). tests/core/test_sqlite_transactions.py checks it.
  The cost: a GET that does write (a token's last-used time, defaults made on first
  view) still reads before it writes, so it can still meet "database is locked" when a
  writer commits in between; such writes belong in their own short transaction.

SAVEPOINTs (`Session.begin_nested()`) work as before; with pysqlite's handling off they
are in fact reliable (the pysqlite docs' own caveat).
"""
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _is_pysqlite(conn) -> bool:
    return conn.dialect.name == "sqlite" and conn.dialect.driver == "pysqlite"


def _read_only_request() -> bool:
    from flask import has_request_context, request

    return has_request_context() and request.method in READ_ONLY_METHODS


def begin_statement() -> str:
    return "BEGIN" if _read_only_request() else "BEGIN IMMEDIATE"


def take_over_transactions(dbapi_connection) -> None:
    """Called on connect: pysqlite emits no BEGIN of its own from now on."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None


def _begin(conn) -> None:
    if _is_pysqlite(conn):
        conn.exec_driver_sql(begin_statement())


def install_sqlite_transactions() -> None:
    if not event.contains(Engine, "begin", _begin):
        event.listen(Engine, "begin", _begin)
