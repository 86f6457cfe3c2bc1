"""Platform jobs: outbox dispatch and its sweep."""
from huey import crontab

from app.core import events
from app.core.idempotency import forget_old_keys
from app.core.jobs import enqueue_after_commit, job, periodic_job


@job(retries=5, retry_delay=10)
def dispatch_event(event_id: int) -> bool:
    return events.dispatch(event_id)


@periodic_job(crontab(minute="*"))
def sweep_outbox() -> None:
    """Re-enqueue events whose enqueue after commit never happened. Enqueued once this
    read's transaction ends: run inline (huey's immediate mode), a dispatch inside it
    would wait on the write lock this transaction holds on SQLite (app.core.sqlite)."""
    for event_id in events.undispatched_ids():
        enqueue_after_commit(dispatch_event, event_id)


@periodic_job(crontab(minute="17"))
def expire_idempotency_keys() -> None:
    forget_old_keys()
