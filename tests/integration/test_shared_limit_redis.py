"""With Redis, four gunicorn workers share one rate limit (DESIGN.md section 4).

Starts a real `gunicorn --workers 4` against a fresh SQLite file and a Redis database,
fires 70 requests with one token, each on a new connection and several at once so they
land on different workers, and expects exactly 60 answers and 10 refusals. With
`memory://` storage each worker would count alone and let up to 4 x 60 through.

Skipped when Redis is not reachable, unless TRELLIS_REQUIRE_REDIS=1 (CI), which fails.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
LIMIT = 60  # API_RATE_LIMITS["free"]
REQUESTS = 70
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
OWNER = ("owner@shared-limit.example", "shared-limit-password")
BOOT_TIMEOUT = 120  # four workers importing the app on a busy 2-CPU CI box can take a while

pytestmark = pytest.mark.redis


def _redis_base_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS


def _server_redis_url(base: str) -> str:
    """The same server, another database index than the suite's (its counters get reset)."""
    parts = urlsplit(base)
    current = (parts.path or "/0").strip("/") or "0"
    db_index = "15" if current != "15" else "14"
    return urlunsplit(parts._replace(path=f"/{db_index}"))


def _redis_or_skip(url: str):
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        return client
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        reason = f"Redis is not reachable at {url} ({exc.__class__.__name__}: {exc}); start redis-server or set REDIS_URL"
        if os.environ.get("TRELLIS_REQUIRE_REDIS") == "1":
            pytest.fail(f"TRELLIS_REQUIRE_REDIS=1 but {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask(env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _wait_until_serving(base_url: str, server: subprocess.Popen, log: Path, timeout: float = BOOT_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{base_url}/login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


def _pids_in(access_log: Path) -> Counter:
    """Access-log lines are `<worker pid> <status> <path>`."""
    counts: Counter = Counter()
    if access_log.exists():
        for line in access_log.read_text().splitlines():
            pid, _, _ = line.partition(" ")
            counts[pid] += 1
    return counts


def _warm_all_workers(base_url: str, access_log: Path, timeout: float = BOOT_TIMEOUT) -> None:
    """Unlimited GETs, several at once, until every worker has answered one."""
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=WORKERS * 2) as pool:
        while time.monotonic() < deadline:
            list(pool.map(lambda _: requests.get(f"{base_url}/login", timeout=10), range(WORKERS * 4)))
            if len(_pids_in(access_log)) >= WORKERS:
                return
    pytest.fail(f"only {len(_pids_in(access_log))} of {WORKERS} workers answered within {timeout} s")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)  # the session we started: master and its workers
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def test_four_workers_share_one_limit(tmp_path):
    redis_url = _server_redis_url(_redis_base_url())
    redis_client = _redis_or_skip(redis_url)
    prefix = f"trellis-test-{uuid.uuid4().hex[:12]}"
    instance = tmp_path / "instance"
    instance.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATELIMIT_", "FLASK_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'shared.db'}",
        REDIS_URL=redis_url,
        RATELIMIT_KEY_PREFIX=prefix,
        TRELLIS_INSTANCE=str(instance),
        SECRET_KEY="shared-limit-test-secret",
        HUEY_IMMEDIATE="1",  # no jobs left behind in the Redis queue
        PYTHONUNBUFFERED="1",
    )
    _flask(env, "db", "upgrade")
    _flask(env, "create-business", "Shared Limit Co", "--email", OWNER[0], "--password", OWNER[1])

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    access_log, server_log = tmp_path / "access.log", tmp_path / "gunicorn.log"
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    with server_log.open("w") as log_file:
        server = subprocess.Popen(
            [gunicorn, "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", "--timeout", "60",
             "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(s)s %(U)s", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_until_serving(base_url, server, server_log)
        _warm_all_workers(base_url, access_log)

        issued = requests.post(f"{base_url}/api/v1/tokens", timeout=10,
                               json={"email": OWNER[0], "password": OWNER[1], "device_name": "shared-limit"})
        assert issued.status_code == 201, issued.text
        token = issued.json()["token"]
        warm_lines = sum(_pids_in(access_log).values())

        def call(_):
            # requests.get opens a new connection every time (no Session, no keep-alive).
            response = requests.get(f"{base_url}/api/v1/me", timeout=15,
                                    headers={"Authorization": f"Bearer {token}", "Connection": "close"})
            return response.status_code, response.headers.get("X-RateLimit-Limit"), response.text

        with ThreadPoolExecutor(max_workers=WORKERS * 2) as pool:
            results = list(pool.map(call, range(REQUESTS)))

        statuses = Counter(status for status, _, _ in results)
        assert statuses == {200: LIMIT, 429: REQUESTS - LIMIT}, statuses
        assert {limit for _, limit, _ in results} == {str(LIMIT)}
        assert all(text.strip() == '{"message":"Too Many Attempts."}' or status == 200
                   for status, _, text in results), [t for s, _, t in results if s == 429][:1]

        # The 70 answers came from several workers (gunicorn logs each one with its pid).
        # A worker may write its access line after the client has the answer, and only a
        # graceful stop flushes every worker's log: stop first, then count.
        keys = [key.decode() for key in redis_client.scan_iter(match=f"*{prefix}*")]
        _stop(server)
        lines = access_log.read_text().splitlines()[warm_lines:]
        api_pids = Counter(line.split(" ")[0] for line in lines if line.endswith("/api/v1/me"))
        assert sum(api_pids.values()) == REQUESTS, api_pids
        assert len(api_pids) >= 2, f"all requests went to one worker: {api_pids}"
        print(f"requests per worker pid: {dict(api_pids)}")

        # And the counter lives in Redis under this run's prefix.
        assert any(prefix in key for key in keys)
    finally:
        _stop(server)
        for key in redis_client.scan_iter(match=f"*{prefix}*"):
            redis_client.delete(key)
