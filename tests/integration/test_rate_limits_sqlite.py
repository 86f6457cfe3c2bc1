"""Every rate-limit test of test_rate_limits.py again, counting in the SQLite storage.

The suite's limiter counts in memory (fast); this module swaps in the storage `make run`
uses without Redis (a trellis+sqlite:// file) for each of its tests, so the API, public and
sign-in limits, their headers and the deduct-on-failure rule are proven on it too.
"""
import pytest
from limits.strategies import FixedWindowRateLimiter

from app.core.sqlite_limits import SqliteLimitStorage
from app.extensions import limiter
from tests.integration.test_rate_limits import *  # noqa: F403  (the tests to run again)


@pytest.fixture(autouse=True)
def sqlite_counters(app, tmp_path):
    storage = SqliteLimitStorage(f"trellis+sqlite:///{tmp_path / 'ratelimits.db'}")
    saved = limiter._storage, limiter._limiter
    limiter._storage, limiter._limiter = storage, FixedWindowRateLimiter(storage)
    try:
        yield storage
    finally:
        limiter._storage, limiter._limiter = saved


def test_the_counters_are_in_the_sqlite_file(app, acme, api_as, sqlite_counters):
    assert limiter.storage is sqlite_counters  # what code building on limiter.storage gets
    response = api_as(acme.owner_id).get("/api/v1/me")
    assert response.headers["X-RateLimit-Remaining"] == "59"
    rows = sqlite_counters._connection().execute("SELECT key, value FROM rate_limits").fetchall()
    assert [(value, "api" in key and "cred:" in key) for key, value in rows] == [(1, True)]
