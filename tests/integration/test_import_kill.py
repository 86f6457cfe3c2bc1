"""A 3,000-row import survives its worker being killed (SIGKILL) at random points three
times while the web app writes to the same SQLite database: exactly 3,000 contacts, the
import done, its counts right, and none of the web app's writes failed.

Real processes: `flask db upgrade`, the app (tests/integration/import_kill_client.py)
uploading through the API and writing contacts, and the huey consumer as `make run`
starts it (two worker threads, so the import and the event dispatch share the database).
Measured: 128 s on a two-core machine shared with other test runs (load average 10); the
waits fail only when the import stops moving, not on a slow machine.
"""
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROWS = 3000
STALL_SECONDS = 2


def _env(tmp_path) -> dict:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'kill.db'}", TRELLIS_INSTANCE=str(tmp_path),
               SECRET_KEY="kill-test", FLASK_APP="wsgi", RATELIMIT_ENABLED="false",
               IMPORT_STALL_SECONDS=str(STALL_SECONDS))
    for name in ("REDIS_URL", "HUEY_IMMEDIATE", "RATELIMIT_STORAGE_URI"):
        env.pop(name, None)
    return env


def _run(env, *args) -> str:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def _client(env, *args) -> str:
    return _run(env, "-m", "tests.integration.import_kill_client", *args)


def _import_row(db_path, import_id: int) -> dict:
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        conn.row_factory = sqlite3.Row
        row = conn.execute("select * from import_jobs where id = ?", (import_id,)).fetchone()
        return dict(row)
    finally:
        conn.close()


def _consumer(env, tmp_path, n: int) -> subprocess.Popen:
    log = open(tmp_path / f"consumer-{n}.log", "w")  # noqa: SIM115 - a file: a pipe left undrained blocks it
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "huey_consumer"), "wsgi.huey", "--workers", "2", "--worker-type",
         "thread", "--max-delay", "0.5"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_for_rows(db_path, import_id: int, condition, what: str, patience: float = 90) -> dict:
    """Poll the import until `condition(row)`; fail only when it stops moving for `patience`
    seconds (the machine running the suite may be slow, but the import must progress)."""
    last, moved_at = None, time.monotonic()
    while True:
        row = _import_row(db_path, import_id)
        if condition(row):
            return row
        if (row["processed_rows"], row["status"]) != last:
            last, moved_at = (row["processed_rows"], row["status"]), time.monotonic()
        if time.monotonic() - moved_at > patience:
            raise AssertionError(f"no progress for {patience} s waiting for {what}: {row}")
        time.sleep(0.05)


def test_import_killed_three_times_imports_every_row_exactly_once(tmp_path):
    env = _env(tmp_path)
    db_path = tmp_path / "kill.db"
    _run(env, "-m", "flask", "db", "upgrade")
    token = _client(env, "setup")
    csv_path = tmp_path / "people.csv"
    # Names only, no e-mails: nothing for a replayed row to be matched on.
    csv_path.write_text("First name,Last name\r\n" + "".join(f"Ann{n},Lee{n}\r\n" for n in range(ROWS)))
    import_id = int(_client(env, "upload", token, str(csv_path)))

    stop = tmp_path / "stop-writing"
    writer = subprocess.Popen([sys.executable, "-m", "tests.integration.import_kill_client", "write", token,
                               str(stop)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rng = random.Random()
    seed = rng.randrange(10**6)
    rng.seed(seed)
    kill_after = sorted(rng.sample(range(150, ROWS - 600, 50), 3))  # rows done when each kill comes
    consumers = []
    try:
        for n, rows_done in enumerate(kill_after):
            consumer = _consumer(env, tmp_path, n)
            consumers.append(consumer)
            _wait_for_rows(db_path, import_id, lambda row, rows_done=rows_done: row["processed_rows"] >= rows_done,
                           f"the import to pass row {rows_done} (seed {seed})")
            time.sleep(rng.uniform(0, 0.4))  # somewhere inside the next batch, or between two
            consumer.send_signal(signal.SIGKILL)
            consumer.wait(10)
            killed_at = _import_row(db_path, import_id)
            assert killed_at["status"] == "running", (seed, killed_at["status"])
            time.sleep(STALL_SECONDS + 0.5)  # its heartbeat goes stale; the next worker resumes it at start

        consumers.append(_consumer(env, tmp_path, len(kill_after)))
        job = _wait_for_rows(db_path, import_id, lambda row: row["status"] in ("done", "failed"),
                             f"the import to finish (seed {seed})")
    finally:
        stop.touch()
        written, writer_errors = writer.communicate(timeout=60)
        for consumer in consumers:
            if consumer.poll() is None:
                consumer.terminate()
                consumer.wait(10)

    assert (job["status"], job["total_rows"], job["processed_rows"]) == ("done", ROWS, ROWS), seed
    assert (job["created_count"], job["updated_count"], job["skipped_count"], job["error_count"]) == (ROWS, 0, 0, 0)
    assert job["lease_token"] is None
    made, failed = map(int, written.split())
    assert failed == 0, writer_errors[-2000:]  # the web app's writes never lost the lock fight
    assert made > 0
    with sqlite3.connect(db_path) as conn:
        imported = conn.execute(
            "select count(*), count(distinct first_name || ' ' || last_name), count(distinct import_row),"
            " min(import_row), max(import_row) from contacts where import_id = ?", (import_id,)).fetchone()
        by_writer = conn.execute("select count(*) from contacts where first_name = 'Writer'").fetchone()[0]
        everything = conn.execute("select count(*) from contacts").fetchone()[0]
    assert imported == (ROWS, ROWS, ROWS, 2, ROWS + 1), seed
    assert by_writer == made and everything == ROWS + made
