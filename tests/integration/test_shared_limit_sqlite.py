"""Without Redis, four gunicorn workers still share one rate limit (the embedded default).

Starts a real `gunicorn --workers 4` on a fresh instance folder with nothing configured but
the folder (no REDIS_URL, no SECRET_KEY, no RATELIMIT_STORAGE_URI): the counters then live
in instance/ratelimits.db. With the old `memory://` default each worker counted alone and
let up to 4 x 60 through. Also checks that every file the instance holds (databases, their
WAL files, the generated secret key) is private to the account (mode 0600).
"""
import os
import re
import sqlite3
import stat

import requests

from tests.integration.gunicorn_support import (
    assert_workers_share_the_api_limit,
    flask_command,
    gunicorn,
    issue_token,
)

WORKERS = 4
LIMIT = 60  # API_RATE_LIMITS["free"]
REQUESTS = 70
LOGIN_LIMIT = 10  # LOGIN_RATE_LIMIT: failed sign-ins per IP
OWNER = ("owner@shared-sqlite.example", "shared-sqlite-password")


def _embedded_default_env(instance) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RATELIMIT_", "FLASK_", "HUEY_")) and k not in ("REDIS_URL", "SECRET_KEY")}
    env.update(DATABASE_URL=f"sqlite:///{instance / 'trellis.db'}", TRELLIS_INSTANCE=str(instance),
               PYTHONUNBUFFERED="1")
    return env


def _modes(folder) -> dict[str, str]:
    return {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in folder.iterdir() if path.is_file()}


def _failed_sign_ins(base_url: str, count: int) -> list[int]:
    """One after another (the limit deducts after the answer), each on a new connection,
    with the session's CSRF token (without it the attempt is refused before it is counted)."""
    browser = requests.Session()
    page = browser.get(f"{base_url}/login", timeout=15).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page)
    assert token, page[:2000]
    data = {"csrf_token": token.group(1) or token.group(2), "password": "wrong"}
    return [browser.post(f"{base_url}/login", data={**data, "login": f"nobody{n}@example.com"},
                         headers={"Connection": "close"}, timeout=15).status_code
            for n in range(count)]


def test_four_workers_share_one_limit_without_redis(tmp_path):
    instance = tmp_path / "instance"
    env = _embedded_default_env(instance)
    flask_command(env, "db", "upgrade")
    flask_command(env, "create-business", "Shared SQLite Co", "--email", OWNER[0], "--password", OWNER[1])

    with gunicorn(env, tmp_path, WORKERS) as (base_url, server, access_log):
        # The token first: failed sign-ins from this IP then lock out every password check
        # from it, POST /api/v1/tokens included (one per-IP budget for every place).
        token = issue_token(base_url, *OWNER)
        assert _failed_sign_ins(base_url, LOGIN_LIMIT + 2) == [422] * LOGIN_LIMIT + [429, 429]
        late = requests.post(f"{base_url}/api/v1/tokens", timeout=10,
                             json={"email": OWNER[0], "password": OWNER[1], "device_name": "late"})
        assert late.status_code == 429 and int(late.headers["Retry-After"]) > 0, late.text

        # While it runs, every file of the instance is private, WAL and shared-memory files too.
        modes = _modes(instance)
        assert {"trellis.db", "huey.db", "ratelimits.db", "ratelimits.db-wal", "ratelimits.db-shm",
                "secret_key"} <= set(modes), modes
        assert set(modes.values()) == {"0o600"}, modes

        assert_workers_share_the_api_limit(base_url, server, access_log, token, limit=LIMIT,
                                           requests_count=REQUESTS, workers=WORKERS)

    # The API bucket of that token counted every call, in the instance's file.
    with sqlite3.connect(instance / "ratelimits.db") as connection:
        counts = dict(connection.execute("SELECT key, value FROM rate_limits").fetchall())
    assert [value for key, value in counts.items() if "/cred:" in key] == [REQUESTS], counts
