"""Redis configured but down: requests are answered as usual, never with a 500.

An app of its own with REDIS_URL on a closed port and the real (not immediate) job queue, so
rate limits really hit Redis and fall back to counting in memory, and enqueues after commit
really fail and leave their work to the sweeps. Each outage is logged once, and /healthz
says `degraded`. The limiter and huey are process-wide objects: the fixture gives them back
to the suite's app afterwards.
"""
import io
import logging
import shutil

import pytest
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.core import health
from app.core.events import OutboxEvent
from app.core.jobs import init_jobs
from app.core.tenancy import tenant_scope
from app.extensions import db, huey, limiter
from app.pipelines.models import ImportJob, Lead
from tests.conftest import make_business
from tests.leads_support import add_form

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused
OWNER = ("owner@acme.example", "owner-password")
TOO_MANY = {"message": "Too Many Attempts."}


@pytest.fixture
def redis_down(app, tmp_path):
    saved_limiter = {k: (dict(v) if isinstance(v, dict) else v) for k, v in vars(limiter).items()}
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db' / 'down.db'}",
        MAIL_DIR=str(tmp_path / "mail"),
        REDIS_URL=DEAD_REDIS,
        RATELIMIT_STORAGE_URI=DEAD_REDIS,
        RATELIMIT_KEY_PREFIX="redis-down",
        HUEY_IMMEDIATE=False,  # the real enqueue path, into the dead Redis
    )
    (tmp_path / "db").mkdir()
    down = create_app(config)
    with down.app_context():
        db.create_all()
    health._outages.clear()
    try:
        yield down
    finally:
        with down.app_context():
            db.session.remove()
            db.engine.dispose()
        vars(limiter).clear()
        vars(limiter).update(saved_limiter)
        init_jobs(app)
        health._outages.clear()


def _warnings(caplog, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and text in r.getMessage()]


def test_api_sign_in_and_lead_capture_answer_normally(redis_down, caplog):
    caplog.set_level(logging.INFO)
    assert not huey.immediate and huey.storage.__class__.__name__ == "RedisStorage"
    acme = make_business(redis_down, "Acme Supplies", OWNER[0], OWNER[1])
    _, form_key = add_form(redis_down, acme, name="Website")
    client = redis_down.test_client()

    issued = client.post("/api/v1/tokens", json={"email": OWNER[0], "password": OWNER[1], "device_name": "probe"})
    assert issued.status_code == 201, issued.json
    auth = {"Authorization": f"Bearer {issued.json['token']}"}

    me = client.get("/api/v1/me", headers=auth)
    assert me.status_code == 200
    assert me.json["data"]["email"] == OWNER[0]
    # Counted in memory meanwhile: the headers are still there and still count down.
    assert (me.headers["X-RateLimit-Limit"], me.headers["X-RateLimit-Remaining"]) == ("60", "59")

    # A write whose domain event cannot be enqueued: committed, and the event waits in the outbox.
    created = client.post("/api/v1/contacts", json={"first_name": "Ann", "email": "ann@example.com"}, headers=auth)
    assert created.status_code == 201, created.json
    # An import whose job cannot be enqueued after commit: accepted and left queued for
    # restart_stalled_imports.
    upload = client.post("/api/v1/imports", headers=auth, content_type="multipart/form-data",
                         data={"kind": "contacts", "file": (io.BytesIO(b"email,first_name\r\nbo@example.com,Bo\r\n"),
                                                            "people.csv")})
    assert upload.status_code == 202, upload.json
    # Public lead capture.
    captured = client.post(f"/api/v1/public/leads/{form_key}", json={"name": "Jane Doe", "email": "jane@example.com"})
    assert captured.status_code == 201, captured.json

    # The sign-in form: a failure and a success.
    assert client.post("/login", data={"login": OWNER[0], "password": "wrong"}).status_code == 422
    assert client.post("/login", data={"login": OWNER[0], "password": OWNER[1]}).status_code == 302
    assert client.get("/").status_code in (200, 302)

    with redis_down.app_context(), tenant_scope(acme.business_id):
        assert db.session.scalar(select(ImportJob.status)) == "queued"
        assert db.session.scalar(select(Lead.email)) == "jane@example.com"
        waiting = db.session.scalars(select(OutboxEvent.name).where(OutboxEvent.dispatched_at.is_(None))).all()
        assert {"contact.created", "lead.created"} <= set(waiting), waiting

    # Each outage is logged once, not once per request.
    assert len(_warnings(caplog, "the job queue is unavailable")) == 1
    assert len(_warnings(caplog, "falling back to in-memory storage")) == 1


def test_limits_still_apply_counting_in_memory(redis_down):
    make_business(redis_down, "Acme Supplies", OWNER[0], OWNER[1])
    client = redis_down.test_client()
    ip = {"REMOTE_ADDR": "192.0.2.9"}
    limit = 10  # LOGIN_RATE_LIMIT per IP
    for n in range(limit):
        response = client.post("/login", data={"login": f"x{n}@example.com", "password": "wrong"}, environ_base=ip)
        assert response.status_code == 422, n
    blocked = client.post("/login", data={"login": "y@example.com", "password": "wrong"}, environ_base=ip)
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers


def test_healthz_says_degraded_when_redis_is_down(redis_down):
    response = redis_down.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "degraded", "checks": {
        "database": "ok", "queue": "unavailable", "redis": "unavailable", "rate_limits": "unavailable"}}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_503_when_the_database_is_gone(redis_down, tmp_path):
    with redis_down.app_context():
        db.engine.dispose()
    shutil.rmtree(tmp_path / "db")  # the SQLite file and its folder: nothing can be opened

    response = redis_down.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["database"] == "unavailable"
