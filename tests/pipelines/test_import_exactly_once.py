"""CSV imports run exactly once however often the job runs or dies, and bad cells get a
clear answer: the checkpoint commits with its batch, replayed rows are recognised by
their import id and row number, one runner holds the lease, stalled imports are resumed."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.models import utcnow
from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pipelines import imports
from app.pipelines.models import Contact, ImportJob
from app.team.models import User

NAMES = {"First name": "first_name", "Last name": "last_name"}


def names_csv(count: int) -> bytes:
    """Names only, no e-mails: nothing to match on, so every row creates a contact."""
    return ("First name,Last name\r\n" + "".join(f"Ann{n},Lee{n}\r\n" for n in range(count))).encode()


def queued_import(app, tenant, raw: bytes, mapping=None) -> int:
    """An import mapped and queued, but not handed to the worker (tests run it)."""
    with app.app_context(), tenant_scope(tenant.business_id):
        actor = actor_for(db.session.get(User, tenant.owner_id))
        upload = imports.start_import(actor, "contacts", "people.csv", raw)
        upload.mapping, upload.status = mapping or NAMES, "queued"
        db.session.commit()
        return upload.id


def run(import_id: int, tenant) -> None:
    """One run of the job, in the calling thread, raising what it raises."""
    imports.run_import.call_local(import_id, business_id=tenant.business_id)


def state(app, tenant, import_id: int) -> dict:
    with app.app_context(), tenant_scope(tenant.business_id):
        job = db.session.get(ImportJob, import_id)
        marked = select(func.count(func.distinct(Contact.import_row))).where(Contact.import_id == import_id)
        return {"status": job.status, "processed": job.processed_rows, "created": job.created_count,
                "updated": job.updated_count, "errors": job.error_count, "lease": job.lease_token,
                "contacts": db.session.scalar(select(func.count()).select_from(Contact)),
                "distinct_rows": db.session.scalar(marked)}


def set_job(app, tenant, import_id: int, **values) -> None:
    with app.app_context(), tenant_scope(tenant.business_id):
        job = db.session.get(ImportJob, import_id)
        for key, value in values.items():
            setattr(job, key, value)
        db.session.commit()


def test_a_failure_after_a_batch_wrote_its_rows_commits_nothing_of_it(app, acme, monkeypatch):
    import_id = queued_import(app, acme, names_csv(450))
    real_checkpoint, calls = imports.checkpoint, []

    def dies_on_the_second_batch(upload, rows_done):
        calls.append(rows_done)
        if len(calls) == 2:  # the batch's 200 contacts are flushed; the worker dies here
            raise RuntimeError("worker killed")
        real_checkpoint(upload, rows_done)

    monkeypatch.setattr(imports, "checkpoint", dies_on_the_second_batch)
    with pytest.raises(RuntimeError):
        run(import_id, acme)
    after_crash = state(app, acme, import_id)
    assert (after_crash["contacts"], after_crash["processed"], after_crash["created"]) == (200, 200, 200)
    assert after_crash["status"] == "running" and after_crash["lease"] is None  # released for the retry

    monkeypatch.setattr(imports, "checkpoint", real_checkpoint)
    run(import_id, acme)  # the retry resumes at row 200
    done = state(app, acme, import_id)
    assert done == {"status": "done", "processed": 450, "created": 450, "updated": 0, "errors": 0, "lease": None,
                    "contacts": 450, "distinct_rows": 450}


def test_a_replayed_batch_cannot_create_a_row_twice(app, acme):
    import_id = queued_import(app, acme, names_csv(250))
    run(import_id, acme)
    assert state(app, acme, import_id)["contacts"] == 250
    # As if the checkpoint had been lost: the job is sent back to row 0 and run again.
    set_job(app, acme, import_id, status="running", processed_rows=0, lease_token=None,
            heartbeat_at=utcnow() - timedelta(hours=1))
    run(import_id, acme)
    assert state(app, acme, import_id) == {"status": "done", "processed": 250, "created": 250, "updated": 0,
                                           "errors": 0, "lease": None, "contacts": 250, "distinct_rows": 250}
    with app.app_context(), tenant_scope(acme.business_id):
        first = db.session.scalar(select(Contact).where(Contact.import_row == 2))
        assert (first.first_name, first.import_id, first.version) == ("Ann0", import_id, 1)  # stamped, not re-saved


def test_the_unique_index_refuses_a_second_row_with_the_same_import_row(app, acme):
    from sqlalchemy.exc import IntegrityError

    with app.app_context(), tenant_scope(acme.business_id):
        db.session.add(Contact(first_name="A", import_id=99, import_row=2))
        db.session.commit()
        db.session.add(Contact(first_name="B", import_id=99, import_row=2))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add_all([Contact(first_name="C"), Contact(first_name="D")])  # not imported: no constraint
        db.session.commit()


def test_a_second_runner_does_nothing_while_the_first_holds_a_live_lease(app, acme):
    import_id = queued_import(app, acme, names_csv(30))
    set_job(app, acme, import_id, status="running", lease_token="other-runner", heartbeat_at=utcnow())
    run(import_id, acme)
    assert state(app, acme, import_id)["contacts"] == 0  # the live runner is left alone
    set_job(app, acme, import_id, heartbeat_at=utcnow() - timedelta(seconds=61))
    run(import_id, acme)  # its heartbeat went stale: it died, and this run takes over
    assert state(app, acme, import_id)["status"] == "done" and state(app, acme, import_id)["contacts"] == 30


def test_a_runner_that_lost_its_lease_stops_before_its_next_batch(app, acme, monkeypatch):
    import_id = queued_import(app, acme, names_csv(450))
    real_checkpoint = imports.checkpoint

    def taken_over_after_the_first_batch(upload, rows_done):
        real_checkpoint(upload, rows_done)
        upload.lease_token = "the-runner-that-took-over"

    monkeypatch.setattr(imports, "checkpoint", taken_over_after_the_first_batch)
    run(import_id, acme)
    after = state(app, acme, import_id)
    assert (after["contacts"], after["processed"], after["status"]) == (200, 200, "running")


def test_the_sweep_resumes_stalled_imports_and_leaves_live_ones(app, acme):
    stalled = queued_import(app, acme, names_csv(5))
    set_job(app, acme, stalled, status="running", lease_token="dead-worker", heartbeat_at=utcnow() - timedelta(seconds=90))
    live = queued_import(app, acme, names_csv(3))
    set_job(app, acme, live, status="running", lease_token="busy-worker", heartbeat_at=utcnow())
    lost_enqueue = queued_import(app, acme, names_csv(4))  # queued, never started
    set_job(app, acme, lost_enqueue, updated_at=utcnow() - timedelta(minutes=2))
    with app.app_context():
        assert imports.stalled_imports() == [(stalled, acme.business_id), (lost_enqueue, acme.business_id)]
    imports.restart_stalled_imports()  # immediate mode in tests: the resumed runs happen now
    assert state(app, acme, stalled)["status"] == "done"
    assert state(app, acme, lost_enqueue)["status"] == "done"
    assert state(app, acme, live)["status"] == "running"
    assert state(app, acme, live)["contacts"] == 9


def test_the_sweep_runs_every_minute():
    from datetime import datetime

    sweep = imports.restart_stalled_imports.task_class()
    assert all(sweep.validate_datetime(datetime(2026, 1, 1, 10, m)) for m in (0, 1, 37))


# --- bad input: a clear answer, never a 500 ------------------------------------------------

def browser_upload(browser, raw: bytes):
    return browser.post("/pipelines/import-export/imports", data={"kind": "contacts", "file": (io.BytesIO(raw), "p.csv")},
                        content_type="multipart/form-data")


def api_upload(app, token: str, raw: bytes, filename: str = "p.csv"):
    return app.test_client().post("/api/v1/imports", headers={"Authorization": f"Bearer {token}"},
                                  content_type="multipart/form-data",
                                  data={"kind": "contacts", "file": (io.BytesIO(raw), filename)})


def test_a_cell_over_131072_characters_is_that_rows_error_naming_row_and_column(app, acme, owner_browser):
    raw = (f"First name,Company notes,Other\r\nAnn,short,\r\nBob,{'x' * 131_073},\r\n"
           f"Cy,short,{'y' * 200_000}\r\n").encode()  # an unmapped column may hold anything
    response = browser_upload(owner_browser, raw)
    assert response.status_code == 303  # read, not a 500
    import_id = int(re.search(r"/imports/(\d+)/mapping$", response.headers["Location"]).group(1))
    assert owner_browser.get(response.headers["Location"]).status_code == 200  # the preview too
    done = owner_browser.post(f"/pipelines/import-export/imports/{import_id}/mapping",
                              data={"map-0": "first_name", "map-1": "notes", "mode": "update", "action": "import"})
    assert done.status_code == 303
    with app.app_context(), tenant_scope(acme.business_id):
        job = db.session.get(ImportJob, import_id)
        assert (job.status, job.created_count, job.error_count) == ("done", 2, 1)
        assert job.errors == [{"row": 3, "errors": {"notes": [
            "The \u201cCompany notes\u201d cell has 131,073 characters; a cell can hold at most 131,072."]}}]
        assert sorted(db.session.scalars(select(Contact.first_name))) == ["Ann", "Cy"]
    page = owner_browser.get(done.headers["Location"]).get_data(as_text=True)
    assert "Row 3" in page and "cell has 131,073 characters" in page


def test_a_file_with_a_nul_character_is_refused_naming_row_and_column(app, acme, owner_browser):
    raw = b"First name,Last name\r\nAnn,Lee\r\nBob,Ro\x00ss\r\n"
    message = ("The file contains a NUL character, which is not allowed (row 3, column \u201cLast name\u201d)."
               " Remove it and upload the file again.")
    response = browser_upload(owner_browser, raw)
    assert response.status_code == 422 and message in response.get_data(as_text=True)

    from tests.conftest import make_token

    response = api_upload(app, make_token(app, acme.owner_id), raw)
    assert response.status_code == 422
    assert response.get_json() == {"message": message, "errors": {"file": [message]}}
    named = api_upload(app, make_token(app, acme.owner_id), b"First name\r\nAnn\r\n", filename="p\x00.csv")
    assert named.status_code == 422
    assert named.get_json()["errors"] == {"file": ["The file's name contains a NUL character, which is not allowed."]}
    with app.app_context(), tenant_scope(acme.business_id):
        assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0  # nothing stored


def test_an_upload_past_the_size_limit_is_413_on_both_faces(app, acme, owner_browser, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    raw = names_csv(200)
    assert len(raw) > 1024
    page = browser_upload(owner_browser, raw)
    assert page.status_code == 413
    html = page.get_data(as_text=True)
    assert "That upload is too large" in html and "Uploads are limited to 1 KB." in html

    from tests.conftest import make_token

    response = api_upload(app, make_token(app, acme.owner_id), raw)
    assert response.status_code == 413 and response.get_json() == {"message": "The request body is too large."}
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 10 * 1024 * 1024)
    assert "Up to 10 MB." in owner_browser.get("/pipelines/import-export/").get_data(as_text=True)
