"""Health: `GET /healthz` for load balancers and monitors, and outage logging that says
once that a dependency is gone (and once that it is back), not once per request.

`/healthz` needs no credential and is never rate limited. It answers
`{"status": ..., "checks": {"database", "queue", "redis", "rate_limits"}}`:

- 200 `ok`: everything answers (`redis` may be `not configured`: Redis is optional);
- 200 `degraded`: the database answers, something else does not. Requests are still served:
  rate limits count in memory per process, jobs wait in the outbox for the sweep;
- 503 `unavailable`: the database does not answer, so nothing useful can be served.
"""
import logging
import threading

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import db, huey, limiter

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

OK, UNAVAILABLE, NOT_CONFIGURED = "ok", "unavailable", "not configured"
CHECK_TIMEOUT = 1  # seconds; a monitor must get an answer even when Redis is black-holed

_outages: dict[str, str] = {}
_outages_lock = threading.Lock()
_redis_clients: dict[str, object] = {}


def report_unavailable(component: str, error: BaseException, consequence: str) -> None:
    """Warn the first time `component` fails; repeats of the same outage go to debug."""
    with _outages_lock:
        first = component not in _outages
        _outages[component] = f"{error.__class__.__name__}: {error}"
    if first:
        log.warning("%s is unavailable (%s); %s", component, _outages[component], consequence)
    else:
        log.debug("%s still unavailable: %s", component, error)


def report_available(component: str) -> None:
    if not _outages:  # the common case costs a dict lookup
        return
    with _outages_lock:
        was_down = _outages.pop(component, None)
    if was_down:
        log.info("%s is available again", component)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    checks = {
        "database": _check(_ping_database),
        "queue": _check(_ping_queue),
        "redis": _check(_ping_redis) if current_app.config.get("REDIS_URL") else NOT_CONFIGURED,
        "rate_limits": _check(_ping_rate_limit_storage),
    }
    if checks["database"] != OK:
        status, code = UNAVAILABLE, 503
    elif any(value not in (OK, NOT_CONFIGURED) for value in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = OK, 200
    response = jsonify(status=status, checks=checks)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response


def _check(ping) -> str:
    try:
        return OK if ping() is not False else UNAVAILABLE
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        log.debug("health check %s failed: %s", ping.__name__, exc)
        return UNAVAILABLE


def _ping_database() -> None:
    # Its own connection, so a failure leaves the request's session untouched.
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _ping_queue() -> None:
    if not huey.immediate:  # immediate mode (tests) runs jobs in the request: nothing to reach
        huey.storage.queue_size()


def _ping_redis() -> bool:
    return _redis_client(current_app.config["REDIS_URL"]).ping()


def _ping_rate_limit_storage() -> bool:
    return limiter.storage.check()


def _redis_client(url: str):
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT)
        _redis_clients[url] = client
    return client
