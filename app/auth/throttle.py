"""Failed password checks, counted per account and per client IP.

Every place that checks a password (the sign-in form, POST /api/v1/tokens, HTTP Basic
when it comes) goes through app.auth.services.authenticate, which asks here first. The
counters live in the rate limiter's storage (Flask-Limiter's `limiter.storage`), so all
web processes share them, whatever storage the limiter is configured with.

- Account: LOGIN_EMAIL_RATE_LIMIT failures per normalised login (e-mail or username,
  without case or surrounding spaces). A login that matches no account is counted the
  same way, so the answer never tells whether the account exists.
- IP: LOGIN_RATE_LIMIT failures per address, across accounts.

Once either is used up, even the right password is refused until the window moves on;
otherwise guessing would simply continue. A success clears the account's failures (not
the IP's: signing in to one's own account must not buy more guesses at others).
"""
import hashlib
import logging
import math
import time

from flask import current_app
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter, RateLimiter

from app.core.errors import TooManyAttempts
from app.core.health import report_available, report_unavailable
from app.core.limits import login_email_limit, login_limit
from app.extensions import limiter

log = logging.getLogger(__name__)

ACCOUNT_SCOPE = "login-account"
IP_SCOPE = "login-ip"
COMPONENT = "the login throttle's storage"
# While the shared storage is down, failures are counted per process here, as the
# limiter's own in-memory fallback does: guessing stays limited, sign-in keeps working.
_OUTAGE_STORAGE = MemoryStorage()


def account_key(login: str | None) -> str:
    """One bucket for every spelling of a login; hashed so the storage holds no addresses."""
    normalized = (login or "").strip().lower()
    return hashlib.sha256(normalized.encode()).hexdigest()[:32]


def _account_bucket(login: str | None) -> tuple[RateLimitItem, tuple[str, ...]]:
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
    return parse(login_email_limit()), (prefix, ACCOUNT_SCOPE, account_key(login))


def _ip_bucket(ip: str | None) -> tuple[RateLimitItem, tuple[str, ...]]:
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
    return parse(login_limit()), (prefix, IP_SCOPE, ip or "unknown")


def storage_key(bucket: tuple[RateLimitItem, tuple[str, ...]]) -> str:
    item, identifiers = bucket
    return item.key_for(*identifiers)


def _strategy() -> RateLimiter | None:
    """A moving window over the limiter's storage (no burst at a window's edge), or the
    limiter's configured strategy when that storage has no moving window. While the
    limiter knows its storage is dead, `limiter.limiter` is its in-memory fallback."""
    if not (limiter.enabled and limiter.initialized):
        return None  # RATELIMIT_ENABLED is off
    current = limiter.limiter
    try:
        return MovingWindowRateLimiter(current.storage)
    except NotImplementedError:
        return current


def _call(strategy: RateLimiter, method: str, *args):
    """A storage outage must not stop people signing in or turn into a 500: count in
    this process's memory instead, and say so once per outage."""
    try:
        result = getattr(strategy, method)(*args)
    except Exception as error:  # noqa: BLE001  (any storage backend's error)
        report_unavailable(COMPONENT, error, "counting failed sign-ins in memory per process")
        return getattr(MovingWindowRateLimiter(_OUTAGE_STORAGE), method)(*args)
    report_available(COMPONENT)
    return result


def check_login_allowed(login: str | None, ip: str | None) -> None:
    """Raise TooManyAttempts (with the seconds to wait) if this attempt must not be tried."""
    strategy = _strategy()
    if strategy is None:
        return
    waits = []
    for item, identifiers in (_account_bucket(login), _ip_bucket(ip)):
        if _call(strategy, "test", item, *identifiers):
            continue
        stats = _call(strategy, "get_window_stats", item, *identifiers)
        waits.append(max(1, math.ceil(stats.reset_time - time.time())))
    if waits:
        raise TooManyAttempts(retry_after=max(waits))


def record_failed_login(login: str | None, ip: str | None) -> None:
    strategy = _strategy()
    if strategy is None:
        return
    for item, identifiers in (_account_bucket(login), _ip_bucket(ip)):
        _call(strategy, "hit", item, *identifiers)


def clear_failed_logins(login: str | None) -> None:
    strategy = _strategy()
    if strategy is None:
        return
    item, identifiers = _account_bucket(login)
    _call(strategy, "clear", item, *identifiers)
