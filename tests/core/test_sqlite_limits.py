"""The SQLite rate-limit storage (app.core.sqlite_limits) and the private files it lives in."""
import multiprocessing
import os
import stat
import time

import pytest
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app import config as config_module
from app.core.private_files import ensure_private_file, sqlite_file, write_private_file_once
from app.core.sqlite_limits import SqliteLimitStorage

PROCESSES = 4
HITS_EACH = 50


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def storage(tmp_path) -> SqliteLimitStorage:
    return storage_from_string(f"trellis+sqlite:///{tmp_path / 'ratelimits.db'}")


def test_the_scheme_is_registered_with_limits(storage, tmp_path):
    assert isinstance(storage, SqliteLimitStorage)
    assert storage.path == str(tmp_path / "ratelimits.db")  # four slashes: an absolute path
    assert storage_from_string("trellis+sqlite:///instance/ratelimits.db").path == "instance/ratelimits.db"


def test_default_storage_is_the_instance_file_without_redis(monkeypatch, tmp_path):
    monkeypatch.setattr(config_module, "INSTANCE", tmp_path)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert config_module._rate_limit_storage_uri() == f"trellis+sqlite:///{tmp_path}/ratelimits.db"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    assert config_module._rate_limit_storage_uri() == "redis://127.0.0.1:6379/3"
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    assert config_module._rate_limit_storage_uri() == "memory://"
    assert config_module.Config.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED is True


def test_incr_get_expiry_clear_and_reset(storage):
    before = time.time()
    assert storage.get("a") == 0
    assert [storage.incr("a", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("a", 60, amount=5) == 8
    assert storage.incr("b", 60) == 1
    assert storage.get("a") == 8
    # The window's end is set by the first hit and does not move with later ones.
    assert before + 60 <= storage.get_expiry("a") <= time.time() + 60
    first_expiry = storage.get_expiry("a")
    storage.incr("a", 60)
    assert storage.get_expiry("a") == first_expiry

    storage.clear("a")
    assert storage.get("a") == 0 and storage.get("b") == 1
    assert storage.reset() == 1
    assert storage.get("b") == 0
    assert storage.check() is True


def test_an_expired_window_starts_again_at_one(storage):
    assert storage.incr("k", 0.2) == 1
    assert storage.incr("k", 0.2) == 2
    time.sleep(0.25)
    assert storage.get("k") == 0
    assert storage.get_expiry("k") <= time.time()
    assert storage.incr("k", 60) == 1  # a new window, with the new expiry
    assert storage.get_expiry("k") > time.time() + 59


def test_expired_rows_are_purged(storage, monkeypatch):
    storage.incr("old", 0.01)
    time.sleep(0.02)
    storage._next_purge = 0  # the next write sweeps
    storage.incr("new", 60)
    rows = storage._connection().execute("SELECT key FROM rate_limits").fetchall()
    assert rows == [("new",)]


def test_fixed_window_limiter_on_the_storage(storage):
    limiter = FixedWindowRateLimiter(storage)
    item = RateLimitItemPerMinute(3)
    assert [limiter.hit(item, "ip:1") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(item, "ip:2") is True
    stats = limiter.get_window_stats(item, "ip:1")
    assert stats.remaining == 0 and stats.reset_time > time.time()


def test_check_is_false_when_the_file_cannot_be_opened(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where a folder should be")
    storage = SqliteLimitStorage(f"trellis+sqlite:///{blocked / 'ratelimits.db'}")
    assert storage.check() is False


def _hit_many(uri: str, queue) -> None:
    storage = SqliteLimitStorage(uri)
    queue.put([storage.incr("shared", 60) for _ in range(HITS_EACH)])


def test_processes_share_one_counter_and_every_hit_gets_its_own_count(tmp_path):
    """Four processes hit one key at once: the counts handed out are exactly 1..200 with no
    repeats, which is what makes a limit exact across gunicorn workers."""
    uri = f"trellis+sqlite:///{tmp_path / 'ratelimits.db'}"
    context = multiprocessing.get_context("spawn")  # a fresh interpreter each, like workers
    queue = context.Queue()
    workers = [context.Process(target=_hit_many, args=(uri, queue)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    counts = [value for _ in workers for value in queue.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert sorted(counts) == list(range(1, PROCESSES * HITS_EACH + 1))
    assert SqliteLimitStorage(uri).get("shared") == PROCESSES * HITS_EACH


def _count_in_child(storage, queue) -> None:
    queue.put(storage.incr("forked", 60))


def test_a_forked_child_opens_its_own_connection(storage):
    """gunicorn --preload forks after the app (and maybe a connection) exists."""
    assert storage.incr("forked", 60) == 1
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_count_in_child, args=(storage, queue))
    child.start()
    assert queue.get(timeout=30) == 2
    child.join(timeout=30)
    assert storage.incr("forked", 60) == 3  # the parent's connection still works


# --- private files -------------------------------------------------------------------


def test_limit_database_and_its_wal_files_are_private(storage, tmp_path):
    storage.incr("k", 60)
    for name in ("ratelimits.db", "ratelimits.db-wal", "ratelimits.db-shm"):
        assert _mode(tmp_path / name) == 0o600, name


def test_ensure_private_file_creates_0600_and_leaves_existing_files_alone(tmp_path):
    made = ensure_private_file(tmp_path / "sub" / "trellis.db")
    assert _mode(made) == 0o600 and made.read_bytes() == b""
    made.write_text("data")
    ensure_private_file(made)
    assert made.read_text() == "data"


def test_secret_key_is_generated_once_with_mode_0600(monkeypatch, tmp_path):
    monkeypatch.setattr(config_module, "INSTANCE", tmp_path / "instance")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config_module._secret_key()
    assert len(first) == 64
    assert _mode(tmp_path / "instance" / "secret_key") == 0o600
    assert config_module._secret_key() == first
    assert [p.name for p in (tmp_path / "instance").iterdir()] == ["secret_key"]  # no temporary left


def test_the_first_writer_wins_and_everyone_reads_its_value(tmp_path):
    path = tmp_path / "secret_key"
    assert write_private_file_once(path, "first") == "first"
    assert write_private_file_once(path, "second") == "first"


def test_sqlite_file_of_a_database_url(tmp_path):
    assert sqlite_file(f"sqlite:///{tmp_path}/trellis.db") == tmp_path / "trellis.db"
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("postgresql+psycopg://postgres@127.0.0.1:5432/x") is None


def test_without_hard_links_the_file_is_still_created_once_and_private(tmp_path, monkeypatch):
    def no_links(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "secret_key"
    assert write_private_file_once(path, "first") == "first"
    assert write_private_file_once(path, "second") == "first"
    assert _mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]
