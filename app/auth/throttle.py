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
from collections.abc import Callable

from flask import current_app
from limits import RateLimitItem, parse
from limits.strategies import MovingWindowRateLimiter, RateLimiter

from app.core.errors import TooManyAttempts
from app.core.limits import login_email_limit, login_limit
from app.extensions import limiter

log = logging.getLogger(__name__)

ACCOUNT_SCOPE = "login-account"
IP_SCOPE = "login-ip"


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
    """A moving window over the limiter's own storage (no burst at a window's edge),
    or the limiter's configured strategy when that storage has no moving window."""
    if not (limiter.enabled and limiter.initialized):
        return None  # RATELIMIT_ENABLED is off
    try:
        return MovingWindowRateLimiter(limiter.storage)
    except NotImplementedError:
        return limiter.limiter


def _guarded(action: Callable, *args, default=None):
    """A storage outage must not stop people signing in or turn into a 500."""
    try:
        return action(*args)
    except Exception:  # noqa: BLE001  (any storage backend's error)
        log.exception("login throttle storage failed; allowing the attempt")
        return default


def check_login_allowed(login: str | None, ip: str | None) -> None:
    """Raise TooManyAttempts (with the seconds to wait) if this attempt must not be tried."""
    strategy = _strategy()
    if strategy is None:
        return
    waits = []
    for item, identifiers in (_account_bucket(login), _ip_bucket(ip)):
        if _guarded(strategy.test, item, *identifiers, default=True):
            continue
        stats = _guarded(strategy.get_window_stats, item, *identifiers)
        reset_at = stats.reset_time if stats else time.time() + item.get_expiry()
        waits.append(math.ceil(reset_at - time.time()))
    if waits:
        raise TooManyAttempts(retry_after=max(waits))


def record_failed_login(login: str | None, ip: str | None) -> None:
    strategy = _strategy()
    if strategy is None:
        return
    for item, identifiers in (_account_bucket(login), _ip_bucket(ip)):
        _guarded(strategy.hit, item, *identifiers)


def clear_failed_logins(login: str | None) -> None:
    strategy = _strategy()
    if strategy is None:
        return
    item, identifiers = _account_bucket(login)
    _guarded(strategy.clear, item, *identifiers)
