"""Rate limiting: per credential for authenticated API calls, per IP for public ones.

Counters live in Redis when REDIS_URL is set, else in the SQLite file
instance/ratelimits.db (app.core.sqlite_limits), so every gunicorn worker shares one limit
either way (`memory://` counts per process). When the storage fails (Redis down),
Flask-Limiter's in-memory fallback counts per process and logs it once, and it switches
back when the storage answers again. Flask-Limiter builds each bucket's key from
RATELIMIT_KEY_PREFIX, the key function's value and the scope, and writes
X-RateLimit-Limit / -Remaining / -Reset (an epoch second) and Retry-After.
"""
from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

import app.core.sqlite_limits  # noqa: F401  (registers the trellis+sqlite:// storage)

DEFAULT_LOGIN_EMAIL_RATE_LIMIT = "5/minute"


def credential_or_ip() -> str:
    """One bucket per credential when the request carries a good one, else per client IP."""
    from app.auth.credentials import current_credential

    credential = current_credential()
    if credential is not None:
        return f"cred:{credential.key}"
    return f"ip:{get_remote_address()}"


_credential_or_ip = credential_or_ip  # the name app.api imports


def api_limit_value() -> str:
    """The plan's per-credential limit when authenticated, the public one otherwise."""
    from app.auth.credentials import current_credential

    credential = current_credential()
    if credential is None:
        return current_app.config["PUBLIC_RATE_LIMIT"]
    plans = current_app.config["API_RATE_LIMITS"]
    plan = credential.user.business.plan
    return f"{plans.get(plan, plans['free'])}/minute"


# Failed sign-ins are counted by app.auth.throttle (per account and per IP, on every
# face that checks a password); these read its limits.
def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def login_email_limit() -> str:
    return current_app.config.get("LOGIN_EMAIL_RATE_LIMIT", DEFAULT_LOGIN_EMAIL_RATE_LIMIT)


def login_key() -> str:
    return f"login:{get_remote_address()}"


def make_limiter() -> Limiter:
    return Limiter(key_func=credential_or_ip, strategy="fixed-window")


# Fail fast when Redis is unreachable: a hit that waits for a TCP timeout would hold the
# request (and a worker) for minutes before the in-memory fallback takes over.
REDIS_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}


def init_limiter(app, limiter: Limiter) -> None:
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis://", "rediss://", "redis+unix://")):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", REDIS_STORAGE_OPTIONS)
    limiter.init_app(app)
