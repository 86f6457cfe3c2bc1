"""Rate limits as the API and the sign-in form promise them (DESIGN.md section 4).

Runs on the limiter's memory storage, or on Redis when REDIS_URL is set; conftest resets
the counters before every test. Flask-Limiter's fixed window starts at a bucket's first
hit, so a test that stays under a minute never sees its window roll over.
"""
import time

from limits import parse
from sqlalchemy import select

from app.core.limits import login_email_limit, login_limit
from app.extensions import db
from app.team.models import Business

TOO_MANY = {"message": "Too Many Attempts."}


def _limit(value: str) -> int:
    return parse(value).amount


def _assert_rate_headers(response, limit: int, remaining: int, first_request_at: float) -> None:
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    reset = int(response.headers["X-RateLimit-Reset"])  # an epoch second, not a delta
    assert time.time() - 1 <= reset <= first_request_at + 62, (reset, time.time())


# --- authenticated API: per credential, per business plan -------------------------------


def test_api_limit_per_credential_counts_down_then_429(app, acme, api_as):
    limit = app.config["API_RATE_LIMITS"]["free"]
    assert limit == 60
    client = api_as(acme.owner_id)

    started = time.time()
    resets = set()
    for n in range(1, limit + 1):
        response = client.get("/api/v1/me")
        assert response.status_code == 200, (n, response.json)
        _assert_rate_headers(response, limit, limit - n, started)
        assert "Retry-After" not in response.headers  # only a 429 says when to retry
        resets.add(int(response.headers["X-RateLimit-Reset"]))
    assert max(resets) - min(resets) <= 1, "one window: the reset time does not move"

    blocked = client.get("/api/v1/me")
    assert blocked.status_code == 429
    assert blocked.json == TOO_MANY
    assert blocked.mimetype == "application/json"
    assert blocked.headers["X-RateLimit-Limit"] == str(limit)
    assert blocked.headers["X-RateLimit-Remaining"] == "0"
    assert 0 <= int(blocked.headers["Retry-After"]) <= 61

    # Another token of the same user has its own bucket.
    second = api_as(acme.owner_id)
    response = second.get("/api/v1/me")
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Remaining"] == str(limit - 1)
    # ... and the first one stays blocked.
    assert client.get("/api/v1/me").status_code == 429


def test_api_limit_follows_the_business_plan(app, acme, globex, api_as):
    with app.app_context():
        db.session.scalar(select(Business).where(Business.id == acme.business_id)).plan = "pro"
        db.session.commit()

    pro = api_as(acme.owner_id).get("/api/v1/me")
    assert pro.status_code == 200
    assert pro.headers["X-RateLimit-Limit"] == str(app.config["API_RATE_LIMITS"]["pro"]) == "500"
    assert pro.headers["X-RateLimit-Remaining"] == "499"

    free = api_as(globex.owner_id).get("/api/v1/me")
    assert free.headers["X-RateLimit-Limit"] == "60"


def test_api_limit_covers_every_api_resource_in_one_bucket(app, acme, api_as):
    """The limit is shared across the API: /me and /locations draw on the same 60."""
    client = api_as(acme.owner_id)
    assert client.get("/api/v1/me").headers["X-RateLimit-Remaining"] == "59"
    assert client.get("/api/v1/locations").headers["X-RateLimit-Remaining"] == "58"
    assert client.get("/api/v1/me/tokens").headers["X-RateLimit-Remaining"] == "57"


# --- public API: per IP ---------------------------------------------------------------


def test_public_token_endpoint_is_limited_per_ip(app, acme):
    limit = _limit(app.config["PUBLIC_RATE_LIMIT"])
    assert limit == 30
    client = app.test_client()
    # No device name: refused before any password is checked, so the failed sign-in
    # limits (app.auth.throttle, tested below) stay out of this test of the request limit.
    body = {"email": "owner@acme.example", "password": "owner-password"}
    ip = {"REMOTE_ADDR": "203.0.113.7"}

    started = time.time()
    for n in range(1, limit + 1):
        response = client.post("/api/v1/tokens", json=body, environ_base=ip)
        assert response.status_code == 422, (n, response.json)
        assert list(response.json["errors"]) == ["device_name"]
        _assert_rate_headers(response, limit, limit - n, started)

    blocked = client.post("/api/v1/tokens", json=body, environ_base=ip)
    assert blocked.status_code == 429
    assert blocked.json == TOO_MANY
    assert 0 <= int(blocked.headers["Retry-After"]) <= 61
    # Even a complete request with the right password waits: the limit comes first.
    right = dict(body, device_name="probe")
    assert client.post("/api/v1/tokens", json=right, environ_base=ip).status_code == 429

    # Another address has its own bucket, and nothing was issued on the way.
    other = client.post("/api/v1/tokens", json=body, environ_base={"REMOTE_ADDR": "203.0.113.8"})
    assert other.status_code == 422
    assert other.headers["X-RateLimit-Remaining"] == str(limit - 1)
    from app.auth.models import AccessToken

    with app.app_context():
        assert db.session.scalars(select(AccessToken).execution_options(all_tenants=True)).all() == []


def test_bad_credentials_count_against_the_ip(app, acme):
    """A wrong token is not a credential: guessing tokens spends the public per-IP limit."""
    client = app.test_client()
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer 1|guess"},
                          environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert response.status_code == 401
    assert response.headers["X-RateLimit-Limit"] == str(_limit(app.config["PUBLIC_RATE_LIMIT"]))
    assert response.headers["X-RateLimit-Remaining"] == str(_limit(app.config["PUBLIC_RATE_LIMIT"]) - 1)


# --- sign-in form: per IP and per e-mail, failures only ----------------------------------


def _login(client, login: str, password: str, ip: str):
    return client.post("/login", data={"login": login, "password": password}, environ_base={"REMOTE_ADDR": ip})


def _blocked_html(response) -> None:
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "Too many attempts" in text
    assert "Retry-After" in response.headers


def test_login_is_throttled_per_email(app, acme):
    with app.test_request_context():
        limit = _limit(login_email_limit())
    client = app.test_client()
    # Each attempt from a different address, so only the per-e-mail limit can bite.
    for n in range(limit):
        response = _login(client, "owner@acme.example", "wrong-password", f"192.0.2.{n + 1}")
        assert response.status_code == 422, n
    # The e-mail is matched without case or spaces, so variants share the bucket.
    _blocked_html(_login(client, "  OWNER@Acme.example ", "wrong-password", "192.0.2.200"))
    # While blocked, even the right password waits.
    _blocked_html(_login(client, "owner@acme.example", "owner-password", "192.0.2.201"))
    # Another account is not affected.
    assert _login(client, "someone@acme.example", "wrong-password", "192.0.2.202").status_code == 422


def test_login_is_throttled_per_ip(app, acme):
    with app.test_request_context():
        limit = _limit(login_limit())
    client = app.test_client()
    for n in range(limit):
        response = _login(client, f"nobody{n}@example.com", "wrong-password", "192.0.2.50")
        assert response.status_code == 422, n
    _blocked_html(_login(client, "another@example.com", "wrong-password", "192.0.2.50"))
    assert _login(client, "another@example.com", "wrong-password", "192.0.2.51").status_code == 422


def test_successful_sign_ins_do_not_count(app, acme):
    with app.test_request_context():
        per_email, per_ip = _limit(login_email_limit()), _limit(login_limit())
    assert per_ip > per_email
    ip = "192.0.2.99"
    client = app.test_client()
    for _ in range(per_email - 1):
        assert _login(client, "owner@acme.example", "wrong-password", ip).status_code == 422
    for n in range(per_ip - per_email):
        assert _login(client, f"stranger{n}@example.com", "wrong-password", ip).status_code == 422
    # One failure left on the e-mail and on the IP: successes must not use it up.
    for _ in range(3):
        fresh = app.test_client()  # a signed-in client would just be redirected
        assert _login(fresh, "owner@acme.example", "owner-password", ip).status_code == 302

    assert _login(client, "owner@acme.example", "wrong-password", ip).status_code == 422
    _blocked_html(_login(client, "owner@acme.example", "wrong-password", ip))
    _blocked_html(_login(client, "stranger-x@example.com", "wrong-password", ip))
