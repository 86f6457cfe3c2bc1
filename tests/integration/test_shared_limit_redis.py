"""With Redis, four gunicorn workers share one rate limit (DESIGN.md section 4).

Starts a real `gunicorn --workers 4` against a fresh SQLite file and a Redis database,
fires 70 requests with one token, each on a new connection and several at once so they
land on different workers, and expects exactly 60 answers and 10 refusals. With
`memory://` storage each worker would count alone and let up to 4 x 60 through.

Skipped when Redis is not reachable, unless TRELLIS_REQUIRE_REDIS=1 (CI), which fails.
"""
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.integration.gunicorn_support import (
    assert_workers_share_the_api_limit,
    flask_command,
    gunicorn,
    issue_token,
)

WORKERS = 4
LIMIT = 60  # API_RATE_LIMITS["free"]
REQUESTS = 70
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
OWNER = ("owner@shared-limit.example", "shared-limit-password")

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
    flask_command(env, "db", "upgrade")
    flask_command(env, "create-business", "Shared Limit Co", "--email", OWNER[0], "--password", OWNER[1])

    try:
        with gunicorn(env, tmp_path, WORKERS) as (base_url, server, access_log):
            token = issue_token(base_url, *OWNER)
            keys_seen = []
            assert_workers_share_the_api_limit(
                base_url, server, access_log, token, limit=LIMIT, requests_count=REQUESTS, workers=WORKERS,
                before_stop=lambda: keys_seen.extend(k.decode() for k in redis_client.scan_iter(match=f"*{prefix}*")))
        # And the counter lives in Redis under this run's prefix.
        assert any(prefix in key for key in keys_seen)
    finally:
        for key in redis_client.scan_iter(match=f"*{prefix}*"):
            redis_client.delete(key)
