"""A real `gunicorn --workers N` for the tests that prove limits are shared between workers."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BOOT_TIMEOUT = 120  # four workers importing the app on a busy 2-CPU CI box can take a while


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask_command(env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def wait_until_serving(base_url: str, server: subprocess.Popen, log: Path, timeout: float = BOOT_TIMEOUT) -> None:
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


def pids_in(access_log: Path) -> Counter:
    """Access-log lines are `<worker pid> <status> <path>`."""
    counts: Counter = Counter()
    if access_log.exists():
        for line in access_log.read_text().splitlines():
            pid, _, _ = line.partition(" ")
            counts[pid] += 1
    return counts


def warm_all_workers(base_url: str, access_log: Path, workers: int, timeout: float = BOOT_TIMEOUT) -> None:
    """Unlimited GETs, several at once, until every worker has answered one."""
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=workers * 2) as pool:
        while time.monotonic() < deadline:
            list(pool.map(lambda _: requests.get(f"{base_url}/login", timeout=10), range(workers * 4)))
            if len(pids_in(access_log)) >= workers:
                return
    pytest.fail(f"only {len(pids_in(access_log))} of {workers} workers answered within {timeout} s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)  # the session we started: master and its workers
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


@contextmanager
def gunicorn(env: dict, tmp_path: Path, workers: int):
    """Serve wsgi:app with `workers` processes on a free port; yields (base_url, server, access_log)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    access_log, server_log = tmp_path / "access.log", tmp_path / "gunicorn.log"
    executable = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    with server_log.open("w") as log_file:
        server = subprocess.Popen(
            [executable, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--timeout", "60",
             "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(s)s %(U)s", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_until_serving(base_url, server, server_log)
        warm_all_workers(base_url, access_log, workers)
        yield base_url, server, access_log
    finally:
        stop(server)


def issue_token(base_url: str, email: str, password: str) -> str:
    issued = requests.post(f"{base_url}/api/v1/tokens", timeout=10,
                           json={"email": email, "password": password, "device_name": "shared-limit"})
    assert issued.status_code == 201, issued.text
    return issued.json()["token"]


def assert_workers_share_the_api_limit(base_url: str, server: subprocess.Popen, access_log: Path, token: str, *,
                                       limit: int, requests_count: int, workers: int, before_stop=None) -> None:
    """`requests_count` calls with one token, each on a new connection and several at once so
    they land on different workers: exactly `limit` answer 200 and the rest 429. With
    per-process counters each worker would let up to `limit` through on its own."""
    warm_lines = sum(pids_in(access_log).values())

    def call(_):
        # requests.get opens a new connection every time (no Session, no keep-alive).
        response = requests.get(f"{base_url}/api/v1/me", timeout=15,
                                headers={"Authorization": f"Bearer {token}", "Connection": "close"})
        return response.status_code, response.headers.get("X-RateLimit-Limit"), response.text

    with ThreadPoolExecutor(max_workers=workers * 2) as pool:
        results = list(pool.map(call, range(requests_count)))

    statuses = Counter(status for status, _, _ in results)
    assert statuses == {200: limit, 429: requests_count - limit}, statuses
    assert {header for _, header, _ in results} == {str(limit)}
    assert all(text.strip() == '{"message":"Too Many Attempts."}' or status == 200
               for status, _, text in results), [t for s, _, t in results if s == 429][:1]
    if before_stop is not None:
        before_stop()

    # The answers came from several workers (gunicorn logs each one with its pid). A worker
    # may write its access line after the client has the answer, and only a graceful stop
    # flushes every worker's log: stop first, then count.
    stop(server)
    lines = access_log.read_text().splitlines()[warm_lines:]
    api_pids = Counter(line.split(" ")[0] for line in lines if line.endswith("/api/v1/me"))
    assert sum(api_pids.values()) == requests_count, api_pids
    assert len(api_pids) >= 2, f"all requests went to one worker: {api_pids}"
    print(f"requests per worker pid: {dict(api_pids)}")
