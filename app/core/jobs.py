"""Background jobs on huey, each run in its own app context and database transaction.

`job()` is `huey.task()` plus: the Flask app context (a fresh session), an optional
business scope (pass `business_id=`), commit on success and rollback on failure. Jobs
take ids, never ORM objects.
"""
import functools

from flask import current_app, has_app_context
from huey.storage import RedisStorage, SqliteStorage

from app.core.health import report_available, report_unavailable
from app.core.private_files import ensure_private_file
from app.extensions import db, huey

QUEUE = "the job queue"

_state = {"app": None}


def init_jobs(app) -> None:
    _state["app"] = app
    if app.config.get("HUEY_IMMEDIATE"):
        huey.immediate = True
        return
    if app.config.get("REDIS_URL"):
        huey.storage_class = RedisStorage
        # Refused or black-holed, an enqueue fails within a second (and the outbox sweep
        # takes over) instead of holding the request for a TCP timeout.
        from redis import ConnectionPool

        pool = ConnectionPool.from_url(app.config["REDIS_URL"], socket_connect_timeout=1)
        huey.storage_kwargs = {"connection_pool": pool}
    else:
        path = ensure_private_file(app.config["HUEY_SQLITE_PATH"])
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": str(path)}
    huey._immediate = False
    huey.storage = huey.create_storage()


def job(**task_options):
    def decorator(fn):
        @functools.wraps(fn)
        def run_in_app(*args, **kwargs):
            # Inside a request (immediate mode) the job belongs to that app; in the
            # consumer there is none, and the app wsgi.py built is used.
            app = current_app._get_current_object() if has_app_context() else _state["app"]
            if app is None:
                raise RuntimeError("init_jobs(app) has not run; import the app via wsgi")
            with app.app_context():
                from app.core.tenancy import tenant_scope

                with tenant_scope(kwargs.get("business_id")):
                    try:
                        result = fn(*args, **kwargs)
                        db.session.commit()
                        return result
                    except Exception:
                        db.session.rollback()
                        raise

        return huey.task(**task_options)(run_in_app)

    return decorator


def periodic_job(schedule):
    def decorator(fn):
        @functools.wraps(fn)
        def run_in_app():
            app = current_app._get_current_object() if has_app_context() else _state["app"]
            with app.app_context():
                try:
                    fn()
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    raise

        return huey.periodic_task(schedule)(run_in_app)

    return decorator




_AFTER_COMMIT_KEY = "trellis_enqueue_after_commit"


def enqueue_after_commit(task, *args, **kwargs) -> None:
    """Enqueue `task(*args, **kwargs)` once the current transaction commits (never if it
    rolls back), so the worker finds the rows the task is about. Work that must not be
    lost if the process dies between commit and enqueue, or if the queue is down then,
    needs its own sweep as well (imports: restart_stalled_imports)."""
    db.session.info.setdefault(_AFTER_COMMIT_KEY, []).append((task, args, kwargs))


def enqueue_softly(task, *args, **kwargs) -> bool:
    """Enqueue `task` after a commit; a queue outage is logged (once) and swallowed, since
    the change is committed and a sweep re-enqueues the work. Failing the request here would
    answer 500 for something that did happen."""
    try:
        task(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any storage error: Redis down, SQLite locked
        report_unavailable(QUEUE, exc, "jobs wait for the periodic sweep")
        return False
    report_available(QUEUE)
    return True


def _run_pending(session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released, not a commit: the rows are not visible to the worker yet
    for task, args, kwargs in session.info.pop(_AFTER_COMMIT_KEY, []):
        enqueue_softly(task, *args, **kwargs)


def _drop_pending(session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_AFTER_COMMIT_KEY, None)


def install_after_commit_hooks() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_commit", _run_pending):
        event.listen(Session, "after_commit", _run_pending)
        event.listen(Session, "after_rollback", _drop_pending)
