"""GET /healthz, outage logging once per outage, and enqueues that fail soft."""
import logging

import pytest
from limits.strategies import FixedWindowRateLimiter

from app.core import health
from app.core.jobs import enqueue_softly
from app.core.sqlite_limits import SqliteLimitStorage
from app.extensions import limiter


@pytest.fixture(autouse=True)
def no_outages():
    health._outages.clear()
    yield
    health._outages.clear()


def _expected_redis(app) -> str:
    return "ok" if app.config.get("REDIS_URL") else "not configured"


def test_healthz_is_ok_without_credentials(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"status": "ok", "checks": {
        "database": "ok", "queue": "ok", "redis": _expected_redis(app), "rate_limits": "ok"}}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_never_rate_limited(client):
    for _ in range(70):  # more than any limit of the app
        response = client.get("/healthz", environ_base={"REMOTE_ADDR": "203.0.113.70"})
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers


@pytest.fixture
def broken_sqlite_counters(tmp_path):
    """The SQLite limit storage on a path that cannot be opened (a file where its folder
    should be), as if the disk had gone read-only."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    storage = SqliteLimitStorage(f"trellis+sqlite:///{blocked / 'ratelimits.db'}")
    saved = {k: (dict(v) if isinstance(v, dict) else v) for k, v in vars(limiter).items()}
    limiter._storage, limiter._limiter = storage, FixedWindowRateLimiter(storage)
    yield storage
    vars(limiter).clear()
    vars(limiter).update(saved)


def test_a_failing_limit_storage_falls_back_and_healthz_says_degraded(app, acme, api_as, broken_sqlite_counters,
                                                                      caplog):
    caplog.set_level(logging.WARNING)
    client = api_as(acme.owner_id)
    responses = [client.get("/api/v1/me") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["59", "58", "57"]  # in memory
    warnings = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(warnings) == 1

    health_response = app.test_client().get("/healthz")
    assert health_response.status_code == 200
    assert health_response.json["status"] == "degraded"
    assert health_response.json["checks"]["rate_limits"] == "unavailable"
    assert health_response.json["checks"]["database"] == "ok"


def test_an_outage_is_logged_once_and_its_end_once(caplog):
    caplog.set_level(logging.DEBUG, logger="app.core.health")
    for _ in range(5):
        health.report_unavailable("the job queue", ConnectionError("refused"), "jobs wait for the sweep")
    health.report_available("the job queue")
    health.report_available("the job queue")
    health.report_unavailable("the job queue", ConnectionError("refused again"), "jobs wait for the sweep")

    by_level = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
    assert by_level == [
        ("WARNING", "the job queue is unavailable (ConnectionError: refused); jobs wait for the sweep"),
        ("INFO", "the job queue is available again"),
        ("WARNING", "the job queue is unavailable (ConnectionError: refused again); jobs wait for the sweep"),
    ]


def test_a_failed_enqueue_is_swallowed_and_reported(caplog):
    caplog.set_level(logging.WARNING)
    calls = []

    def unreachable_queue(*args, **kwargs):
        calls.append((args, kwargs))
        raise ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    assert enqueue_softly(unreachable_queue, 7, business_id=3) is False
    assert enqueue_softly(unreachable_queue, 8, business_id=3) is False
    assert calls == [((7,), {"business_id": 3}), ((8,), {"business_id": 3})]
    assert len([r for r in caplog.records if "the job queue is unavailable" in r.getMessage()]) == 1
    assert enqueue_softly(lambda *a, **k: None, 9) is True
    assert "the job queue" not in health._outages
