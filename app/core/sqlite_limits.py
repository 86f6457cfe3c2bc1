"""Rate-limit counters in a SQLite file, shared by every process on the machine.

`memory://` counts per process, so two gunicorn workers let twice the limit through. Without
Redis, the counters live in `instance/ratelimits.db` instead: one row per bucket
(key, count, expiry), bumped by one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`
inside `BEGIN IMMEDIATE`, so concurrent hits from any process serialise on SQLite's write
lock and each sees its own count (the fixed window needs nothing more). The file is
separate from the application database so a hit never waits for a long write there.

Registered with the `limits` library under the scheme `trellis+sqlite` (importing this
module is enough): `RATELIMIT_STORAGE_URI=trellis+sqlite:////abs/path/ratelimits.db`, the
same slashes as SQLAlchemy's `sqlite:` URLs. It supports the fixed-window strategy (the one
Trellis uses); moving and sliding windows would need more than counters.
"""
import os
import sqlite3
import threading
import time
from contextlib import contextmanager

from limits.storage import Storage

from app.core.private_files import ensure_private_file

SCHEME = "trellis+sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_limits (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID
"""
# An expired row counts as absent: the hit starts a new window (count and expiry).
INCREMENT = """
INSERT INTO rate_limits (key, value, expires_at) VALUES (:key, :amount, :expires_at)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN rate_limits.expires_at <= :now THEN excluded.value
                 ELSE rate_limits.value + excluded.value END,
    expires_at = CASE WHEN rate_limits.expires_at <= :now THEN excluded.expires_at
                      ELSE rate_limits.expires_at END
RETURNING value
"""
PURGE_INTERVAL = 60.0  # seconds between sweeps of expired rows, per process

# Connections a forked process inherited from its parent. SQLite must not touch them in the
# child (not even to close them), so they are kept here instead of being garbage-collected.
_inherited_connections: list[sqlite3.Connection] = []


def path_from_uri(uri: str) -> str:
    prefix = f"{SCHEME}:///"
    if not uri.startswith(prefix) or uri == prefix:
        raise ValueError(f"expected {prefix}<path of the database file>, got {uri!r}")
    return uri[len(prefix):]


class SqliteLimitStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, timeout: float = 5.0,
                 **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = path_from_uri(uri or "")
        self.timeout = float(timeout)  # how long a hit waits for the write lock
        self._local = threading.local()
        self._next_purge = 0.0

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        return sqlite3.Error, OSError  # OSError: the file or its folder cannot be made

    # --- connections: one per thread, and a new one after fork ------------------------

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            if getattr(local, "connection", None) is not None:
                _inherited_connections.append(local.connection)
            local.connection = self._connect()
            local.pid = os.getpid()
        return local.connection

    def _connect(self) -> sqlite3.Connection:
        ensure_private_file(self.path)
        connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                                     check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        # Counters need no fsync per hit: a power cut may forget the last few hits.
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(SCHEMA)
        return connection

    @contextmanager
    def _write(self):
        """A short write transaction that takes the write lock first (BEGIN IMMEDIATE), so
        it waits its turn (busy timeout) instead of failing on a snapshot another wrote past."""
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    # --- the limits Storage interface ------------------------------------------------

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._write() as connection:
            rows = connection.execute(
                INCREMENT, {"key": key, "amount": amount, "expires_at": now + expiry, "now": now}
            ).fetchall()
            self._purge_expired(connection, now)
        return rows[0][0]

    def get(self, key: str) -> int:
        row = self._connection().execute(
            "SELECT value FROM rate_limits WHERE key = ? AND expires_at > ?", (key, time.time())
        ).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._connection().execute(
            "SELECT expires_at FROM rate_limits WHERE key = ? AND expires_at > ?", (key, now)
        ).fetchone()
        return row[0] if row else now

    def clear(self, key: str) -> None:
        with self._write() as connection:
            connection.execute("DELETE FROM rate_limits WHERE key = ?", (key,))

    def reset(self) -> int | None:
        with self._write() as connection:
            return connection.execute("DELETE FROM rate_limits").rowcount

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT count(*) FROM rate_limits").fetchone()
        except (sqlite3.Error, OSError):
            return False
        return True

    def _purge_expired(self, connection: sqlite3.Connection, now: float) -> None:
        """Drop expired buckets now and then, so the file holds only live ones."""
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_INTERVAL
        connection.execute("DELETE FROM rate_limits WHERE expires_at <= ?", (now,))
