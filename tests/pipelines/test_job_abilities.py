"""Import and export jobs act with the abilities of the credential that started them (an
API token's narrowing survives into the worker; a browser session is the role alone), and
an import whose user can no longer sign in is failed instead of run."""
import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from app.core.csv_export import BOM
from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pipelines import imports
from app.pipelines.models import Contact, Deal, ExportJob, ImportJob, Lead
from app.team.models import User
from tests.conftest import make_token, make_user
from tests.leads_support import add_leads
from tests.pipelines.factories import add_contacts, add_deal

MAY_NOT_UPDATE_DEAL = {"row": ["You may not update the deal this row matches."]}
MAY_NOT_UPDATE_CONTACT = {"row": ["You may not update the contact this row matches."]}
MAY_NOT_UPDATE_LEAD = {"row": ["You may not update the lead this row matches."]}


@pytest.fixture(autouse=True)
def export_dir(app, tmp_path):
    before = app.config["EXPORT_DIR"]
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    yield
    app.config["EXPORT_DIR"] = before


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def api_import(app, token: str, kind: str, text: str, mapping: dict) -> dict:
    response = app.test_client().post(
        "/api/v1/imports", headers=bearer(token), content_type="multipart/form-data",
        data={"kind": kind, "mapping": json.dumps(mapping), "file": (io.BytesIO(text.encode()), f"{kind}.csv")})
    assert response.status_code == 202, response.get_json()
    # Immediate mode in tests: the worker ran once the request committed.
    status = app.test_client().get(response.headers["Location"], headers=bearer(token))
    assert status.status_code == 200
    return status.get_json()["data"]


def deal_titles(app, tenant) -> dict[int, str]:
    with app.app_context(), tenant_scope(tenant.business_id):
        return dict(db.session.execute(select(Deal.id, Deal.title)).all())


def contact_names(app, tenant) -> dict[str, str]:
    with app.app_context(), tenant_scope(tenant.business_id):
        return dict(db.session.execute(select(Contact.email, Contact.first_name)).all())


def stored_abilities(app, tenant, model, job_id: int):
    with app.app_context(), tenant_scope(tenant.business_id):
        return db.session.get(model, job_id).abilities


# --- F1: imports -------------------------------------------------------------------------

def test_a_token_import_cannot_update_deals_the_token_cannot_see_or_update(app, acme):
    rep = make_user(app, acme, "rep@acme.example", ["deals.view", "deals.update"])
    hidden = add_deal(app, acme, "Rep's deal", owner_id=rep)       # the owner's role sees it, the token does not
    own = add_deal(app, acme, "Owner's deal")                      # the token sees it but may not update it
    with app.app_context(), tenant_scope(acme.business_id):
        stage_id = db.session.scalar(select(Deal.stage_id).where(Deal.id == own))
    token = make_token(app, acme.owner_id, ["crm.import", "deals.create", "deals.view"])
    client = app.test_client()
    assert client.get(f"/api/v1/deals/{hidden}", headers=bearer(token)).status_code == 404
    assert client.patch(f"/api/v1/deals/{own}", headers=bearer(token), json={"title": "x"}).status_code == 403

    text = (f"id,title,value,stage_id\n{hidden},PWNED-by-import,1.00,{stage_id}\n"
            f"{own},PWNED-by-import,1.00,{stage_id}\n,Brand new,5.00,{stage_id}\n")
    body = api_import(app, token, "deals", text, {"id": "id", "title": "title", "value": "value",
                                                    "stage_id": "stage_id"})

    assert (body["status"], body["created_count"], body["updated_count"], body["error_count"]) == ("done", 1, 0, 2)
    assert body["errors"] == [{"row": 2, "errors": MAY_NOT_UPDATE_DEAL}, {"row": 3, "errors": MAY_NOT_UPDATE_DEAL}]
    titles = deal_titles(app, acme)
    assert (titles[hidden], titles[own]) == ("Rep's deal", "Owner's deal")
    assert sorted(titles.values()) == ["Brand new", "Owner's deal", "Rep's deal"]  # no copy of the hidden deal
    assert stored_abilities(app, acme, ImportJob, body["id"]) == ["crm.import", "deals.create", "deals.view"]


def test_a_token_import_cannot_update_contacts_the_token_cannot_see_or_update(app, acme):
    rep = make_user(app, acme, "rep@acme.example", ["contacts.view"])
    add_contacts(app, acme, {"first_name": "Rita", "email": "rita@example.com", "owner_id": rep},
                 {"first_name": "Olive", "email": "olive@example.com"})
    token = make_token(app, acme.owner_id, ["crm.import", "contacts.create", "contacts.view"])
    assert app.test_client().get("/api/v1/contacts", headers=bearer(token)).get_json()["meta"]["total"] == 1

    text = "email,first_name\nrita@example.com,PWNED\nolive@example.com,PWNED\nnew@example.com,Nina\n"
    body = api_import(app, token, "contacts", text, {"email": "email", "first_name": "first_name"})

    assert (body["status"], body["created_count"], body["updated_count"], body["error_count"]) == ("done", 1, 0, 2)
    assert body["errors"] == [{"row": 2, "errors": MAY_NOT_UPDATE_CONTACT},
                              {"row": 3, "errors": MAY_NOT_UPDATE_CONTACT}]
    assert contact_names(app, acme) == {"rita@example.com": "Rita", "olive@example.com": "Olive",
                                        "new@example.com": "Nina"}


def test_a_token_import_cannot_update_leads_the_token_cannot_see_or_update(app, acme):
    rep = make_user(app, acme, "rep@acme.example", ["leads.view"])
    add_leads(app, acme, {"first_name": "Rita", "email": "rita@example.com", "owner_id": rep},
              {"first_name": "Olive", "email": "olive@example.com"})
    token = make_token(app, acme.owner_id, ["crm.import", "leads.create", "leads.view"])

    text = "email,first_name\nrita@example.com,PWNED\nolive@example.com,PWNED\n"
    body = api_import(app, token, "leads", text, {"email": "email", "first_name": "first_name"})

    assert (body["status"], body["updated_count"], body["error_count"]) == ("done", 0, 2)
    assert body["errors"] == [{"row": 2, "errors": MAY_NOT_UPDATE_LEAD}, {"row": 3, "errors": MAY_NOT_UPDATE_LEAD}]
    with app.app_context(), tenant_scope(acme.business_id):
        names = dict(db.session.execute(select(Lead.email, Lead.first_name)).all())
    assert names == {"rita@example.com": "Rita", "olive@example.com": "Olive"}


def test_a_token_with_every_ability_still_imports_as_the_role(app, acme):
    rep = make_user(app, acme, "rep@acme.example", ["contacts.view"])
    add_contacts(app, acme, {"first_name": "Rita", "email": "rita@example.com", "owner_id": rep})
    body = api_import(app, make_token(app, acme.owner_id), "contacts", "email,first_name\nrita@example.com,Ria\n",
                      {"email": "email", "first_name": "first_name"})
    assert (body["status"], body["updated_count"], body["error_count"]) == ("done", 1, 0)
    assert contact_names(app, acme) == {"rita@example.com": "Ria"}
    assert stored_abilities(app, acme, ImportJob, body["id"]) == ["*"]


def test_a_browser_import_acts_with_the_role(app, acme, owner_browser):
    rep = make_user(app, acme, "rep@acme.example", ["contacts.view"])
    add_contacts(app, acme, {"first_name": "Rita", "email": "rita@example.com", "owner_id": rep})
    started = owner_browser.post("/pipelines/import-export/imports", content_type="multipart/form-data",
                                 data={"kind": "contacts",
                                       "file": (io.BytesIO(b"email,first_name\r\nrita@example.com,Ria\r\n"), "p.csv")})
    import_id = int(re.search(r"/imports/(\d+)/mapping$", started.headers["Location"]).group(1))
    owner_browser.post(f"/pipelines/import-export/imports/{import_id}/mapping",
                       data={"map-0": "email", "map-1": "first_name", "mode": "update", "action": "import"})
    with app.app_context(), tenant_scope(acme.business_id):
        job = db.session.get(ImportJob, import_id)
        assert (job.status, job.updated_count, job.error_count, job.abilities) == ("done", 1, 0, None)
    assert contact_names(app, acme) == {"rita@example.com": "Ria"}


def test_a_queued_import_of_a_user_who_can_no_longer_sign_in_fails_instead_of_running(app, acme):
    clerk = make_user(app, acme, "clerk@acme.example", ["crm.import", "contacts.create", "contacts.view"])
    with app.app_context(), tenant_scope(acme.business_id):
        upload = imports.start_import(actor_for(db.session.get(User, clerk)), "contacts", "p.csv",
                                      b"email,first_name\r\nnew@example.com,Nina\r\n")
        upload.mapping, upload.status = {"email": "email", "first_name": "first_name"}, "queued"
        db.session.get(User, clerk).status = "inactive"  # deactivated while the import waited
        db.session.commit()
        import_id = upload.id
    imports.run_import.call_local(import_id, business_id=acme.business_id)
    with app.app_context(), tenant_scope(acme.business_id):
        job = db.session.get(ImportJob, import_id)
        assert (job.status, job.created_count, job.processed_rows) == ("failed", 0, 0)
        assert job.failure == "The person who started this import can no longer sign in, so it was not run."
    assert contact_names(app, acme) == {}


# --- F2: exports -------------------------------------------------------------------------

def read_csv(data: bytes) -> list[dict]:
    text = data.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def shop_manager(app, acme) -> int:
    """A manager whose role sees every contact; two of the five are theirs."""
    manager = make_user(app, acme, "manager@acme.example", ["contacts.view", "contacts.view_all", "crm.export"])
    add_contacts(app, acme, *({"first_name": f"Mine{n}", "owner_id": manager} for n in range(2)),
                 *({"first_name": f"Other{n}"} for n in range(3)))
    return manager


def export_job_rows(app, token: str) -> list[dict]:
    client = app.test_client()
    started = client.post("/api/v1/exports", headers=bearer(token), json={"kind": "contacts"})
    assert started.status_code == 202, started.get_json()
    status = client.get(started.headers["Location"], headers=bearer(token)).get_json()["data"]
    assert status["status"] == "completed", status
    download = client.get(f"{started.headers['Location']}/download", headers={**bearer(token), "Accept": "text/csv"})
    assert download.status_code == 200
    return read_csv(download.get_data())


def test_a_token_export_job_has_the_rows_the_token_lists(app, acme, shop_manager):
    token = make_token(app, shop_manager, ["contacts.view", "crm.export"])
    listed = app.test_client().get("/api/v1/contacts?format=csv", headers=bearer(token))
    assert listed.status_code == 200
    listed_names = sorted(r["first_name"] for r in read_csv(listed.get_data()))
    assert listed_names == ["Mine0", "Mine1"]
    assert sorted(r["first_name"] for r in export_job_rows(app, token)) == listed_names
    with app.app_context():
        job = db.session.scalar(select(ExportJob).execution_options(all_tenants=True))
        assert (job.rows_total, job.abilities) == (2, ["contacts.view", "crm.export"])


def test_a_browser_export_job_has_the_rows_the_role_sees(app, acme, shop_manager, browser_as):
    browser = browser_as("manager@acme.example", "user-password")
    before, app.config["EXPORT_STREAM_LIMIT"] = app.config["EXPORT_STREAM_LIMIT"], 1  # a job, not a stream
    try:
        started = browser.get("/pipelines/import-export/export/contacts")
    finally:
        app.config["EXPORT_STREAM_LIMIT"] = before
    assert started.status_code == 303
    download = browser.get(f"{started.headers['Location']}/download")
    assert download.status_code == 200
    assert len(read_csv(download.get_data())) == 5
    with app.app_context():
        job = db.session.scalar(select(ExportJob).execution_options(all_tenants=True))
        assert (job.status, job.rows_total, job.abilities) == ("completed", 5, None)


def test_an_import_is_its_uploaders_alone(app, acme, owner_browser, browser_as):
    """An import runs with its uploader's permissions, and its file is theirs: a colleague
    who may import too neither sees it nor maps, starts or discards it (404, like exports)."""
    started = owner_browser.post("/pipelines/import-export/imports", data={
        "kind": "contacts", "file": (io.BytesIO(b"first_name,email\nAnn,ann@example.com\n"), "people.csv")},
        content_type="multipart/form-data")
    assert started.status_code == 303
    import_id = int(re.search(r"/imports/(\d+)", started.headers["Location"]).group(1))
    make_user(app, acme, "importer@acme.example", permissions=["contacts.view", "contacts.create", "crm.import"])
    colleague = browser_as("importer@acme.example", "user-password")
    base = f"/pipelines/import-export/imports/{import_id}"
    assert colleague.get(f"{base}/mapping").status_code == 404
    assert colleague.post(f"{base}/mapping", data={"mapping-first_name": "first_name"}).status_code == 404
    assert colleague.get(base).status_code == 404
    assert colleague.post(f"{base}/cancel").status_code == 404
    assert "people.csv" not in colleague.get("/pipelines/import-export/").get_data(as_text=True)
    token = make_token(app, make_user(app, acme, "api-importer@acme.example",
                                      permissions=["contacts.view", "contacts.create", "crm.import"]))
    assert app.test_client().get(f"/api/v1/imports/{import_id}", headers=bearer(token)).status_code == 404
    assert owner_browser.get(f"{base}/mapping").status_code == 200
    assert "people.csv" in owner_browser.get("/pipelines/import-export/").get_data(as_text=True)
    with app.app_context(), tenant_scope(acme.business_id):
        assert db.session.get(ImportJob, import_id).status == "mapping"
