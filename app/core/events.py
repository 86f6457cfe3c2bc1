"""Domain events through a transactional outbox.

`record_event()` adds an `OutboxEvent` row in the same transaction as the change. After
that transaction commits, the new ids are enqueued for dispatch; a periodic sweep
re-enqueues any event still undispatched, so a crash or a queue outage between commit and
enqueue loses nothing. Dispatch claims an event with a conditional UPDATE, runs its
handlers in that same transaction, and commits: a rollback (failed handler) releases the
claim for a retry, and a second dispatch of a claimed event does nothing.
"""
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.models import utcnow
from app.core.tenancy import current_business_id, tenant_scope
from app.extensions import db

log = logging.getLogger(__name__)
_HANDLERS: dict[str, list] = defaultdict(list)
_PENDING_KEY = "trellis_outbox_pending"


class OutboxEvent(db.Model):
    """Not a TenantMixin model: the sweep and dispatcher read across businesses."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_dispatched_at_id", "dispatched_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)


def on_event(name: str):
    """Register a handler `fn(event: OutboxEvent)` for events called `name` ("*" for all)."""

    def decorator(fn):
        _HANDLERS[name].append(fn)
        return fn

    return decorator


def record_event(name: str, payload: dict, business_id: int | None = None) -> OutboxEvent:
    business_id = business_id or current_business_id()
    if business_id is None:
        raise RuntimeError("record_event needs a current business")
    row = OutboxEvent(name=name, payload=payload, business_id=business_id)
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, []).append(row.id)
    return row


def _after_commit(session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released (SQLAlchemy fires after_commit for it too): nothing is committed yet
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    from app.core.jobs import enqueue_softly
    from app.core.tasks import dispatch_event

    for event_id in pending:
        # Never fail the committed request: the event stays in the outbox for the sweep.
        if not enqueue_softly(dispatch_event, event_id):
            log.debug("outbox event %s left for the sweep", event_id)


def _after_rollback(session) -> None:
    if session.in_nested_transaction():
        return  # one savepoint rolled back; the events of the rest of the transaction still stand
    session.info.pop(_PENDING_KEY, None)


def install_outbox_hooks() -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def dispatch(event_id: int) -> bool:
    """Claim and handle one event. Returns False when it was already dispatched."""
    claimed = db.session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == event_id, OutboxEvent.dispatched_at.is_(None))
        .values(dispatched_at=utcnow(), attempts=OutboxEvent.attempts + 1)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return False
    row = db.session.get(OutboxEvent, event_id)
    with tenant_scope(row.business_id):
        for handler in _HANDLERS.get(row.name, []) + _HANDLERS.get("*", []):
            handler(row)
    db.session.commit()
    return True


def undispatched_ids(older_than: timedelta = timedelta(seconds=30), limit: int = 500) -> list[int]:
    cutoff = utcnow() - older_than
    stmt = (
        select(OutboxEvent.id)
        .where(OutboxEvent.dispatched_at.is_(None), OutboxEvent.created_at <= cutoff)
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
