"""Password guessing (issue 8): failed password checks are limited per account and per IP
on every face that checks a password, through the rate limiter's storage, and the answer
for an unknown e-mail is the wrong password's answer.

Limits (TestConfig = Config): LOGIN_EMAIL_RATE_LIMIT 5/minute per account,
LOGIN_RATE_LIMIT 10/minute per IP. conftest resets the limiter's storage before each test.
"""
import pytest
from limits import parse
from limits.storage import MemoryStorage

from app.auth import throttle
from app.extensions import limiter

TOO_MANY = {"message": "Too Many Attempts."}
WRONG_API = {"message": "The provided credentials are incorrect.",
             "errors": {"email": ["The provided credentials are incorrect."]}}
SIGN_IN_FAILED = "Those details do not match an account. Check them and try again."
OWNER = "owner@acme.example"


def web(client, login, password, ip):
    return client.post("/login", data={"login": login, "password": password}, environ_base={"REMOTE_ADDR": ip})


def api(client, email, password, ip):
    return client.post("/api/v1/tokens", json={"email": email, "password": password, "device_name": "probe"},
                       environ_base={"REMOTE_ADDR": ip})


def per_account(app) -> int:
    return parse(app.config["LOGIN_EMAIL_RATE_LIMIT"]).amount


def per_ip(app) -> int:
    return parse(app.config["LOGIN_RATE_LIMIT"]).amount


def assert_retry_after(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def assert_blocked_api(response) -> None:
    assert_retry_after(response)
    assert response.json == TOO_MANY


def assert_blocked_html(response) -> None:
    assert_retry_after(response)
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "Too many attempts to sign in. Wait" in text and "seconds, then try again." in text
    assert 'name="login"' in text  # the form again, not a bare error page


# --- per account ---------------------------------------------------------------------------

def test_api_sixth_wrong_password_for_one_account_from_many_ips_is_429(app, acme):
    client = app.test_client()
    for n in range(per_account(app)):
        response = api(client, OWNER, "wrong-password", f"198.51.100.{n + 1}")
        assert (response.status_code, response.json) == (422, WRONG_API), n
    assert_blocked_api(api(client, OWNER, "wrong-password", "198.51.100.77"))
    # Locked for the window: even the right password is refused, and no token is issued.
    assert_blocked_api(api(client, "  Owner@ACME.example ", "owner-password", "198.51.100.78"))
    # Another account is not affected.
    assert api(client, "someone@acme.example", "wrong-password", "198.51.100.79").status_code == 422


def test_html_sixth_wrong_password_for_one_account_from_many_ips_is_429(app, acme):
    client = app.test_client()
    for n in range(per_account(app)):
        assert web(client, OWNER, "wrong-password", f"198.51.100.{n + 1}").status_code == 422, n
    assert_blocked_html(web(client, OWNER, "wrong-password", "198.51.100.77"))
    assert_blocked_html(web(client, OWNER, "owner-password", "198.51.100.78"))
    assert client.get("/").status_code == 302  # not signed in


def test_both_faces_spend_one_account_budget(app, acme):
    client = app.test_client()
    limit = per_account(app)
    for n in range(limit):
        face = web if n % 2 else api
        assert face(client, OWNER, "wrong-password", f"198.51.100.{n + 1}").status_code == 422, n
    assert_blocked_api(api(client, OWNER, "wrong-password", "198.51.100.90"))
    assert_blocked_html(web(client, OWNER, "wrong-password", "198.51.100.91"))


def test_unknown_accounts_are_counted_the_same_way(app, acme):
    """Blocking only real accounts would tell a guesser which addresses exist."""
    client = app.test_client()
    for n in range(per_account(app)):
        assert api(client, "ghost@acme.example", "wrong-password", f"198.51.100.{n + 1}").status_code == 422
    assert_blocked_api(api(client, "ghost@acme.example", "wrong-password", "198.51.100.77"))


def test_a_success_clears_the_accounts_failures(app, acme):
    client = app.test_client()
    limit = per_account(app)
    for n in range(limit - 1):
        assert api(client, OWNER, "wrong-password", f"198.51.100.{n + 1}").status_code == 422
    assert api(client, OWNER, "owner-password", "198.51.100.50").status_code == 201
    for n in range(limit):
        assert api(client, OWNER, "wrong-password", f"198.51.100.{n + 60}").status_code == 422, n
    assert_blocked_api(api(client, OWNER, "wrong-password", "198.51.100.99"))


# --- per IP --------------------------------------------------------------------------------

def test_api_one_ip_guessing_across_accounts_is_429(app, acme):
    client = app.test_client()
    ip = "203.0.113.20"
    for n in range(per_ip(app)):
        assert api(client, f"person{n}@example.com", "wrong-password", ip).status_code == 422, n
    assert_blocked_api(api(client, "another@example.com", "wrong-password", ip))
    assert_blocked_api(api(client, OWNER, "owner-password", ip))
    assert api(client, "another@example.com", "wrong-password", "203.0.113.21").status_code == 422


def test_html_one_ip_guessing_across_accounts_is_429(app, acme):
    client = app.test_client()
    ip = "203.0.113.30"
    for n in range(per_ip(app)):
        assert web(client, f"person{n}@example.com", "wrong-password", ip).status_code == 422, n
    assert_blocked_html(web(client, "another@example.com", "wrong-password", ip))
    assert web(client, "another@example.com", "wrong-password", "203.0.113.31").status_code == 422


# --- same answer for unknown and wrong ----------------------------------------------------------

def test_unknown_email_and_wrong_password_get_identical_answers(app, acme):
    client = app.test_client()
    wrong, unknown = api(client, OWNER, "wrong-password", "192.0.2.1"), api(client, "nobody@acme.example",
                                                                            "wrong-password", "192.0.2.2")
    assert (wrong.status_code, wrong.json) == (unknown.status_code, unknown.json) == (422, WRONG_API)
    wrong, unknown = web(client, OWNER, "wrong-password", "192.0.2.3"), web(client, "nobody@acme.example",
                                                                            "wrong-password", "192.0.2.4")
    assert wrong.status_code == unknown.status_code == 422
    assert SIGN_IN_FAILED in wrong.get_data(as_text=True) and SIGN_IN_FAILED in unknown.get_data(as_text=True)


@pytest.mark.parametrize("face", [api, web])
def test_an_unknown_email_still_pays_for_a_password_verify(app, acme, monkeypatch, face):
    """Equal time without a flaky timing test: the argon2 verify runs for unknown e-mails too."""
    from app.auth import services

    calls = []
    real = services.verify_password

    def spy(password_hash, password):
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(services, "verify_password", spy)
    assert face(app.test_client(), "nobody@acme.example", "wrong-password", "192.0.2.5").status_code == 422
    assert face(app.test_client(), OWNER, "wrong-password", "192.0.2.6").status_code == 422
    assert calls[0] is None and calls[1].startswith("$argon2id$")  # None: the dummy hash is verified


# --- shared storage -------------------------------------------------------------------------------

def test_failures_are_counted_in_the_limiters_storage(app, acme):
    assert api(app.test_client(), "Owner@Acme.example ", "wrong-password", "192.0.2.9").status_code == 422
    with app.test_request_context():
        account, ip = throttle._account_bucket(f"user:{acme.owner_id}"), throttle._ip_bucket("192.0.2.9")
        strategy = throttle._strategy()
        assert strategy.storage is limiter.storage  # the limiter's own (Redis when configured)
        assert strategy.get_window_stats(*account[:1], *account[1]).remaining == per_account(app) - 1
        assert strategy.get_window_stats(*ip[:1], *ip[1]).remaining == per_ip(app) - 1
        # The key names the scope and a hash of the login, never the address itself.
        key = throttle.storage_key(account)
        assert "login-account" in key and "owner" not in key.lower()


def test_the_email_and_the_username_of_one_account_share_one_budget(app, acme):
    """Counted per account, not per login typed: two spellings were two budgets (10 guesses)."""
    from app.core.tenancy import tenant_scope
    from app.extensions import db
    from app.team.models import User

    with app.app_context(), tenant_scope(acme.business_id):
        db.session.get(User, acme.owner_id).username = "acme-owner"
        db.session.commit()
    client = app.test_client()
    logins = ["acme-owner", OWNER, "ACME-OWNER", OWNER.upper(), "acme-owner"]
    assert [api(client, login, "wrong-password", f"192.0.2.{n}").status_code
            for n, login in enumerate(logins)] == [422] * 5
    assert_blocked_api(api(client, OWNER, "owner-password", "192.0.2.50"))
    assert_blocked_html(web(client, "acme-owner", "owner-password", "192.0.2.51"))


def test_a_storage_outage_lets_sign_in_work_instead_of_a_500(app, acme, monkeypatch):
    class Broken:
        storage = None

        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("storage down")
            return fail

    monkeypatch.setattr(throttle, "_strategy", lambda: Broken())
    monkeypatch.setattr(throttle, "_OUTAGE_STORAGE", MemoryStorage())
    assert api(app.test_client(), OWNER, "wrong-password", "192.0.2.10").status_code == 422
    assert api(app.test_client(), OWNER, "owner-password", "192.0.2.10").status_code == 201


def test_during_a_storage_outage_guessing_is_still_limited_in_memory(app, acme, monkeypatch):
    class Dead:
        storage = None

        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("storage down")
            return fail

    monkeypatch.setattr(throttle, "_strategy", lambda: Dead())
    monkeypatch.setattr(throttle, "_OUTAGE_STORAGE", MemoryStorage())
    answers = [api(app.test_client(), OWNER, "wrong-password", f"192.0.2.{n}").status_code for n in range(6)]
    assert answers == [422] * 5 + [429]
