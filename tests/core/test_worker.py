"""The real worker: events committed by one process are dispatched by the huey consumer."""
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path) -> dict:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'worker.db'}", TRELLIS_INSTANCE=str(tmp_path),
               SECRET_KEY="worker-test", FLASK_APP="wsgi")
    env.pop("REDIS_URL", None)  # the embedded default: huey on a SQLite file
    env.pop("HUEY_IMMEDIATE", None)
    return env


def _flask(env, *args):
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def _undispatched(db_path) -> tuple[int, int]:
    with sqlite3.connect(db_path) as conn:
        total = conn.execute("select count(*) from outbox_events").fetchone()[0]
        waiting = conn.execute("select count(*) from outbox_events where dispatched_at is null").fetchone()[0]
    return total, waiting


def test_consumer_dispatches_committed_events(tmp_path):
    env = _env(tmp_path)
    _flask(env, "db", "upgrade")
    _flask(env, "demo-data")  # locations, roles, agents, CRM records: each write's event is enqueued on commit
    total, waiting = _undispatched(tmp_path / "worker.db")
    # The count grows with the demo data; what matters is that none is dispatched yet.
    assert total >= 8 and waiting == total  # no worker yet: they wait in the queue
    assert (tmp_path / "huey.db").exists()

    # Its log goes to a file: an undrained pipe fills up (64 KiB) and blocks the consumer
    # mid-run once the demo data makes enough events.
    log = open(tmp_path / "consumer.log", "w")  # noqa: SIM115 - closed in finally
    consumer = subprocess.Popen(
        [str(Path(sys.executable).parent / "huey_consumer"), "wsgi.huey", "--workers", "1", "--max-delay", "1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _undispatched(tmp_path / "worker.db")[1]:
            time.sleep(0.5)
        assert _undispatched(tmp_path / "worker.db") == (total, 0)
    finally:
        consumer.terminate()
        try:
            consumer.wait(timeout=10)
        except subprocess.TimeoutExpired:
            consumer.kill()
        log.close()
