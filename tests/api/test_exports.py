"""CSV exports through the API: crm.export on every CRM list's format=csv, large exports as
jobs (202, poll, download), failures that never look complete, tenancy and cleanup."""
import csv
import io
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.csv_export import BOM
from app.core.models import utcnow
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pipelines import exports
from app.pipelines.models import ExportJob
from tests.conftest import make_user
from tests.leads_support import add_leads
from tests.pipelines.activity_rows import add_activity
from tests.pipelines.factories import add_accounts, add_contacts, add_deal

FORBIDDEN = {"message": "Unauthorized"}
VIEW_ALL = ["contacts.view", "contacts.view_all", "accounts.view", "accounts.view_all", "leads.view",
            "leads.view_all", "deals.view", "deals.view_all", "activities.view", "activities.view_all"]
CRM_LISTS = ["contacts", "accounts", "leads", "deals", "activities"]


def read_csv(data: bytes) -> list[dict]:
    text = data.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text[1:])))


def exported_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["EXPORT_DIR"]).rglob("*") if p.is_file())


@pytest.fixture
def one_of_each(app, acme):
    add_contacts(app, acme, {"first_name": "Ann", "email": "ann@acme.example"})
    add_accounts(app, acme, {"name": "Initech"})
    add_leads(app, acme, {"first_name": "Lou", "email": "lou@acme.example"})
    add_deal(app, acme, "Garden makeover")
    add_activity(app, acme, subject="Call Ann")


@pytest.fixture(autouse=True)
def export_dir(app, tmp_path):
    """Each test's export files in a folder of its own."""
    before = app.config["EXPORT_DIR"]
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    yield
    app.config["EXPORT_DIR"] = before


@pytest.fixture
def small_stream_limit(app):
    """Exports over 2 rows become jobs (restored after the test)."""
    before = app.config["EXPORT_STREAM_LIMIT"]
    app.config["EXPORT_STREAM_LIMIT"] = 2
    yield
    app.config["EXPORT_STREAM_LIMIT"] = before


def breaks_after_two_rows(monkeypatch) -> None:
    """The contacts export's rows raise after two (a database that went away mid-export)."""
    kind = exports.export_kind("contacts")
    real = kind.rows

    def rows(actor, args):
        source = real(actor, args)  # built now, as the real one is (the stream runs after the commit)

        def breaking():
            for number, row in enumerate(source):
                if number == 2:
                    raise RuntimeError("database went away")
                yield row

        return breaking()

    monkeypatch.setattr(kind, "rows", rows)


# --- the permission ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", CRM_LISTS)
def test_crm_list_csv_needs_crm_export(app, acme, api_as, one_of_each, kind):
    viewer = make_user(app, acme, "viewer@acme.example", VIEW_ALL)
    exporter = make_user(app, acme, "exporter@acme.example", [*VIEW_ALL, "crm.export"])
    refused = api_as(viewer).get(f"/api/v1/{kind}?format=csv")
    assert refused.status_code == 403 and refused.json == FORBIDDEN
    assert api_as(viewer).get(f"/api/v1/{kind}").status_code == 200  # the list itself is still theirs
    allowed = api_as(exporter).get(f"/api/v1/{kind}?format=csv")
    assert allowed.status_code == 200 and allowed.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert len(read_csv(allowed.get_data())) == 1


@pytest.mark.parametrize("kind", CRM_LISTS)
def test_one_crm_record_as_csv_needs_crm_export_too(app, acme, api_as, one_of_each, kind):
    viewer = make_user(app, acme, "viewer@acme.example", VIEW_ALL)
    exporter = make_user(app, acme, "exporter@acme.example", [*VIEW_ALL, "crm.export"])
    record_id = api_as(viewer).get(f"/api/v1/{kind}").json["data"][0]["id"]
    refused = api_as(viewer).get(f"/api/v1/{kind}/{record_id}?format=csv")
    assert refused.status_code == 403 and refused.json == FORBIDDEN
    assert api_as(viewer).get(f"/api/v1/{kind}/{record_id}").status_code == 200  # the record itself is still theirs
    allowed = api_as(exporter).get(f"/api/v1/{kind}/{record_id}?format=csv")
    assert allowed.status_code == 200 and allowed.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert len(read_csv(allowed.get_data())) == 1


def test_team_list_csv_follows_its_own_view_permission(app, acme, api_as):
    viewer = make_user(app, acme, "viewer@acme.example", ["user.view"])
    response = api_as(viewer).get("/api/v1/users?format=csv")
    assert response.status_code == 200 and response.get_data().startswith(BOM.encode())


def test_export_jobs_need_crm_export(app, acme, api_as, one_of_each):
    viewer = make_user(app, acme, "viewer@acme.example", VIEW_ALL)
    response = api_as(viewer).post("/api/v1/exports", json={"kind": "contacts"})
    assert response.status_code == 403 and response.json == FORBIDDEN
    with app.app_context():
        assert db.session.scalar(select(ExportJob).execution_options(all_tenants=True)) is None


def test_export_job_validation(api):
    response = api.post("/api/v1/exports", json={"kind": "users"})
    assert response.status_code == 422
    assert response.json["errors"] == {"kind": ["The selected kind is invalid."]}
    response = api.post("/api/v1/exports", json={"kind": "deals", "filters": {"status": "maybe"}})
    assert response.status_code == 422 and list(response.json["errors"]) == ["status"]


# --- large exports: a job, then the file -----------------------------------------------------

def test_large_csv_answers_202_and_the_job_file_equals_the_stream(app, acme, api, small_stream_limit):
    add_contacts(app, acme, {"first_name": "=HYPERLINK(\"http://evil\")", "last_name": "Doe", "status": "Customer"},
                 {"first_name": "Bea", "status": "Customer"}, {"first_name": "Cy", "status": "Customer"},
                 {"first_name": "Other", "status": "Lead"})
    url = "/api/v1/contacts?format=csv&status=Customer&sort=first_name"
    started = api.get(url)
    assert started.status_code == 202
    location = started.headers["Location"]
    job = started.json["data"]
    assert location == f"/api/v1/exports/{job['id']}"
    assert (job["kind"], job["rows_total"]) == ("contacts", 3)
    # Immediate mode in tests: the worker ran once the request committed.
    status = api.get(location).json["data"]
    assert (status["status"], status["rows_done"], status["percent"], status["error"]) == ("completed", 3, 100, None)
    assert status["download_url"].endswith(f"/api/v1/exports/{job['id']}/download")
    download = api.get(f"{location}/download", headers={"Accept": "text/csv"})
    assert download.status_code == 200 and download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename=contacts-export-{job["id"]}.csv' in download.headers["Content-Disposition"]
    app.config["EXPORT_STREAM_LIMIT"] = 10_000
    streamed = api.get(url)
    assert streamed.status_code == 200
    assert download.get_data() == streamed.get_data()  # same bytes: BOM, columns, formula guard
    rows = read_csv(download.get_data())
    assert [r["first_name"] for r in rows] == ["'=HYPERLINK(\"http://evil\")", "Bea", "Cy"]
    [path] = exported_files(app)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.parent.name == str(acme.business_id)


def test_post_exports_applies_the_filters(app, acme, api):
    add_deal(app, acme, "Won one", status="won")
    add_deal(app, acme, "Open one")
    response = api.post("/api/v1/exports", json={"kind": "deals", "filters": {"status": "won"}})
    assert response.status_code == 202
    export_id = response.json["data"]["id"]
    assert response.headers["Location"] == f"/api/v1/exports/{export_id}"
    rows = read_csv(api.get(f"/api/v1/exports/{export_id}/download").get_data())
    assert [r["title"] for r in rows] == ["Won one"]


def test_an_export_that_fails_midway_is_failed_and_has_no_file(app, acme, api, monkeypatch, small_stream_limit):
    add_contacts(app, acme, *({"first_name": f"P{i}"} for i in range(5)))
    breaks_after_two_rows(monkeypatch)
    started = api.get("/api/v1/contacts?format=csv")
    assert started.status_code == 202
    location = started.headers["Location"]
    job = api.get(location).json["data"]
    assert job["status"] == "failed" and job["download_url"] is None
    assert job["error"].startswith("The export failed before it was complete")
    download = api.get(f"{location}/download")
    assert download.status_code == 409
    assert download.json == {"message": "This export failed; there is no file to download. Start it again."}
    assert exported_files(app) == []  # not even the partial file


def test_a_streamed_csv_that_fails_midway_does_not_end_cleanly(app, acme, api, monkeypatch):
    """The generator must not swallow the error: the server then aborts the connection
    (no closing chunk) instead of ending a truncated file as a complete 200."""
    add_contacts(app, acme, *({"first_name": f"P{i}"} for i in range(5)))
    breaks_after_two_rows(monkeypatch)
    response = api.get("/api/v1/contacts?format=csv")
    assert response.status_code == 200  # the headers went out before the rows
    with pytest.raises(RuntimeError, match="database went away"):
        response.get_data()


def test_another_business_or_user_cannot_see_an_export(app, acme, globex, api, api_as):
    add_contacts(app, acme, {"first_name": "Ann"})
    export_id = api.post("/api/v1/exports", json={"kind": "contacts"}).json["data"]["id"]
    other_business = api_as(globex.owner_id)
    colleague = api_as(make_user(app, acme, "colleague@acme.example", [*VIEW_ALL, "crm.export"]))
    for client in (other_business, colleague):
        assert client.get(f"/api/v1/exports/{export_id}").status_code == 404
        assert client.get(f"/api/v1/exports/{export_id}/download").status_code == 404


def test_expired_files_are_deleted(app, acme, api):
    add_contacts(app, acme, {"first_name": "Ann"})
    export_id = api.post("/api/v1/exports", json={"kind": "contacts"}).json["data"]["id"]
    [path] = exported_files(app)
    with app.app_context(), tenant_scope(acme.business_id):
        db.session.get(ExportJob, export_id).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    exports.remove_expired_exports.call_local()
    assert not path.exists()
    assert api.get(f"/api/v1/exports/{export_id}").json["data"]["status"] == "expired"
    assert api.get(f"/api/v1/exports/{export_id}/download").status_code == 409


def test_openapi_documents_exports(app, api):
    spec = api.get("/api/v1/openapi.json").json
    assert {"post"} <= set(spec["paths"]["/api/v1/exports"])
    assert "text/csv" in spec["paths"]["/api/v1/exports/{export_id}/download"]["get"]["responses"]["200"]["content"]
    for kind in CRM_LISTS:
        assert "202" in spec["paths"][f"/api/v1/{kind}"]["get"]["responses"]


def test_a_worker_export_saves_its_progress_while_it_reads(app, acme, monkeypatch):
    """In the worker (no request) a job's transaction began IMMEDIATE, holding SQLite's
    write lock while it read the rows, so the progress saved beside it waited out the
    busy timeout and the export failed with "database is locked" past PROGRESS_EVERY rows."""
    from app.core.permissions import actor_for
    from app.team.models import User

    monkeypatch.setattr(exports, "PROGRESS_EVERY", 2)
    add_contacts(app, acme, *({"first_name": f"Row{n}"} for n in range(5)))
    with app.app_context(), tenant_scope(acme.business_id):
        owner = db.session.get(User, acme.owner_id)
        job = exports._queue(actor_for(owner), exports.export_kind("contacts"), exports._as_args({}), "list", 5)
        job_id = job.id
        db.session.commit()
    with app.app_context():  # as the consumer runs it: an app context, no request
        exports.run_export.call_local(job_id, business_id=acme.business_id)
    with app.app_context(), tenant_scope(acme.business_id):
        done = db.session.get(ExportJob, job_id)
        assert (done.status, done.rows_done, done.error) == ("completed", 5, None)
