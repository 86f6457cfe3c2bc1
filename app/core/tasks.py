"""Platform jobs: outbox dispatch and its sweep."""
from huey import crontab

from app.core import events
from app.core.idempotency import forget_old_keys
from app.core.jobs import job, periodic_job


@job(retries=5, retry_delay=10)
def dispatch_event(event_id: int) -> bool:
    return events.dispatch(event_id)


@periodic_job(crontab(minute="*"))
def sweep_outbox() -> None:
    """Re-enqueue events whose enqueue after commit never happened."""
    for event_id in events.undispatched_ids():
        dispatch_event(event_id)


@periodic_job(crontab(minute="17"))
def expire_idempotency_keys() -> None:
    forget_old_keys()
