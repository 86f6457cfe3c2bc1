"""The outbox: rolled-back events never go out; committed ones go out exactly once."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core import events
from app.core.events import OutboxEvent, on_event, record_event
from app.core.models import utcnow
from app.core.tenancy import tenant_scope
from app.extensions import db

received: list[tuple[str, dict]] = []


@on_event("test.happened")
def _remember(event):
    received.append((event.name, event.payload))


@pytest.fixture(autouse=True)
def reset_received():
    received.clear()
    yield
    received.clear()


def _rows():
    return db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()


def test_committed_event_is_dispatched_once(app, acme):
    with app.app_context():
        with tenant_scope(acme.business_id):
            record_event("test.happened", {"n": 1})
        db.session.commit()
        assert received == [("test.happened", {"n": 1})]
        row = _rows()[0]
        assert row.dispatched_at is not None and row.attempts == 1
        # A second dispatch (a retried job, a sweep racing the first) does nothing.
        assert events.dispatch(row.id) is False
        assert received == [("test.happened", {"n": 1})]


def test_rolled_back_event_is_never_dispatched(app, acme):
    with app.app_context():
        with tenant_scope(acme.business_id):
            record_event("test.happened", {"n": 2})
        db.session.rollback()
        db.session.commit()
        assert received == []
        assert _rows() == []


def test_event_whose_enqueue_failed_is_found_by_the_sweep(app, acme, monkeypatch):
    from app.core import tasks

    def broken_enqueue(event_id):
        raise ConnectionError("queue is down")

    monkeypatch.setattr(tasks, "dispatch_event", broken_enqueue)
    with app.app_context():
        with tenant_scope(acme.business_id):
            record_event("test.happened", {"n": 3})
        db.session.commit()  # the request still succeeds
        assert received == []
        row = _rows()[0]
        assert row.dispatched_at is None
        event_id = row.id
        row.created_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    monkeypatch.undo()

    tasks.sweep_outbox()  # immediate mode in tests: the sweep and its dispatches run now
    tasks.sweep_outbox()  # a second sweep finds nothing left to send
    assert received == [("test.happened", {"n": 3})]
    with app.app_context():
        assert db.session.get(OutboxEvent, event_id).dispatched_at is not None


def test_failing_handler_releases_the_claim_for_a_retry(app, acme):
    calls = []

    @on_event("test.flaky")
    def flaky(event):
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("downstream hiccup")

    try:
        with app.app_context():
            with tenant_scope(acme.business_id):
                event_id = record_event("test.flaky", {}).id
            db.session.commit()  # first dispatch fails inside the job; claim rolled back
            assert db.session.get(OutboxEvent, event_id).dispatched_at is None
            assert events.dispatch(event_id) is True
            db.session.expire_all()
            assert db.session.get(OutboxEvent, event_id).dispatched_at is not None
            assert calls == [event_id, event_id]
    finally:
        events._HANDLERS["test.flaky"].remove(flaky)


def test_recent_undispatched_events_wait_for_their_own_enqueue(app, acme, monkeypatch):
    """The sweep leaves events younger than its grace period to the after-commit enqueue."""
    from app.core import tasks

    monkeypatch.setattr(tasks, "dispatch_event", lambda event_id: None)
    with app.app_context():
        with tenant_scope(acme.business_id):
            record_event("test.happened", {"n": 4})
        db.session.commit()
        assert events.undispatched_ids() == []
        assert len(events.undispatched_ids(older_than=timedelta(0))) == 1
