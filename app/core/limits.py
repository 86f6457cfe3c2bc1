"""Rate limiting: per credential for authenticated API calls, per IP for public ones.

Counters live in Redis when REDIS_URL is set, so every gunicorn worker shares one limit.
"""
from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def _credential_or_ip() -> str:
    from app.auth.credentials import current_credential

    credential = current_credential()
    if credential is not None:
        return f"cred:{credential.key}"
    return f"ip:{get_remote_address()}"


def api_limit_value() -> str:
    """The plan's per-credential limit when authenticated, the public one otherwise."""
    from app.auth.credentials import current_credential

    credential = current_credential()
    if credential is None:
        return current_app.config["PUBLIC_RATE_LIMIT"]
    plans = current_app.config["API_RATE_LIMITS"]
    plan = credential.user.business.plan
    return f"{plans.get(plan, plans['free'])}/minute"


def login_failed(response) -> bool:
    """Only failed sign-ins count against the login limit (success redirects)."""
    return response.status_code != 302


def login_key() -> str:
    return f"login:{get_remote_address()}"


def login_email_key() -> str:
    return f"login-email:{(request.form.get('login') or '').strip().lower()}"


def make_limiter() -> Limiter:
    return Limiter(key_func=_credential_or_ip, strategy="fixed-window")


def is_limited_exempt() -> bool:
    return bool(g.get("rate_limit_exempt"))
