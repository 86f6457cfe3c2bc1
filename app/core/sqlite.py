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
  The cost: a GET that does write still reads before it writes, so it would meet
  "database is locked" when a writer commits in between. Such writes therefore never run
  in the GET's read transaction:
  - bookkeeping ("last used" times of tokens and sessions) goes through `write_aside`:
    its own short transaction on its own connection, begun IMMEDIATE, best-effort;
  - defaults made on first view call `write_from_here` first: the request's read
    transaction ends and the rest of the request runs in one begun IMMEDIATE.

SAVEPOINTs (`Session.begin_nested()`) work as before; with pysqlite's handling off they
are in fact reliable (the pysqlite docs' own caveat).
"""
import logging
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BEGIN_IMMEDIATE = "trellis_begin_immediate"  # execution option: this connection writes
READS_ONLY = "trellis_reads_only"  # execution option: this transaction only reads (plain BEGIN)
_WRITING = "trellis.read_request_writes"  # request.environ: a read-only request went on to write

log = logging.getLogger(__name__)


def _is_pysqlite(conn) -> bool:
    return conn.dialect.name == "sqlite" and conn.dialect.driver == "pysqlite"


def read_only_request() -> bool:
    """A GET/HEAD/OPTIONS request that has not gone on to write (see `write_from_here`)."""
    from flask import has_request_context, request

    return (has_request_context() and request.method in READ_ONLY_METHODS
            and not request.environ.get(_WRITING))


def begin_statement(immediate: bool = False) -> str:
    return "BEGIN" if read_only_request() and not immediate else "BEGIN IMMEDIATE"


def take_over_transactions(dbapi_connection) -> None:
    """Called on connect: pysqlite emits no BEGIN of its own from now on."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None


def _begin(conn) -> None:
    if _is_pysqlite(conn):
        options = conn.get_execution_options()
        conn.exec_driver_sql("BEGIN" if options.get(READS_ONLY)
                             else begin_statement(options.get(BEGIN_IMMEDIATE, False)))


def read_only_transaction(session) -> None:
    """Begin `session`'s next transaction as a reader (a plain BEGIN on SQLite): a job that
    streams rows while progress is saved on another connection must not hold the write
    lock meanwhile (the progress write would wait out busy_timeout and fail). The session
    must not be in a transaction yet; writing in this one is a mistake (it may meet
    "database is locked")."""
    session.connection(execution_options={READS_ONLY: True})


def write_aside(statement) -> bool:
    """Run a bookkeeping UPDATE (a "last used" time) so that it can never fail the request.

    A read-only request runs it in its own short transaction on its own connection, begun
    IMMEDIATE on SQLite: it waits on busy_timeout for the write lock instead of failing on
    the request's stale read snapshot, and it holds no row lock for the rest of the
    request on PostgreSQL. Best-effort: a lock it still cannot get is logged and skipped;
    the time is written again on a later request. Any other request already writes, holds
    the write lock (BEGIN IMMEDIATE) and commits once: the statement joins it (a second
    connection would wait on that very lock). Returns whether the write was made.
    """
    from app.extensions import db

    if not read_only_request():
        db.session.execute(statement)
        return True
    try:
        with db.engine.execution_options(**{BEGIN_IMMEDIATE: True}).begin() as connection:
            connection.execute(statement)
    except OperationalError as exc:
        log.debug("bookkeeping write skipped: %s", exc)
        return False
    _end_read_snapshot(db.session())
    return True


def _end_read_snapshot(session) -> None:
    """The request read before this write was committed beside it, so its SQLite snapshot
    is now stale: a write it made later (say, an export job a large CSV GET queues) would
    fail on it. Ending the read transaction here (nothing is pending in it) lets the next
    statement begin a fresh one; objects it loaded are read again when next used."""
    if (session.get_bind().dialect.name == "sqlite" and session.in_transaction()
            and not (session.new or session.dirty or session.deleted)):
        session.commit()


def write_from_here() -> None:
    """A read-only request about to write (defaults made on first view): end its read
    transaction, so the rest of the request (re-check, write, the one commit) runs in a
    transaction begun IMMEDIATE that sees the latest data and waits for the write lock.
    Call it before re-checking what is to be written; outside such a request it does nothing."""
    from flask import request

    from app.extensions import db

    if not read_only_request():
        return
    request.environ[_WRITING] = True
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.commit()  # nothing written yet: this ends the deferred read snapshot


def install_sqlite_transactions() -> None:
    if not event.contains(Engine, "begin", _begin):
        event.listen(Engine, "begin", _begin)
