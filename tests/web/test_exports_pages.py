"""CSV exports on the screens: crm.export on every export (list links, bulk "export", the
Import/Export page), and large exports as a job with a progress page and a download."""
import csv
import io

import pytest

from app.core.csv_export import BOM
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pipelines import exports
from app.pipelines.models import ExportJob
from tests.conftest import make_user
from tests.leads_support import add_leads
from tests.pipelines.factories import add_accounts, add_contacts, add_deal

VIEW_ALL = ["contacts.view", "contacts.view_all", "accounts.view", "accounts.view_all", "leads.view",
            "leads.view_all", "deals.view", "deals.view_all"]


def html(response) -> str:
    return response.get_data(as_text=True)


def read_csv(response) -> list[dict]:
    text = html(response)
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture(autouse=True)
def export_dir(app, tmp_path):
    before = app.config["EXPORT_DIR"], app.config["EXPORT_STREAM_LIMIT"]
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    yield
    app.config["EXPORT_DIR"], app.config["EXPORT_STREAM_LIMIT"] = before


@pytest.fixture
def records(app, acme):
    [contact] = add_contacts(app, acme, {"first_name": "Ann", "last_name": "Archer"})
    [account] = add_accounts(app, acme, {"name": "Initech"})
    [lead] = add_leads(app, acme, {"first_name": "Lou", "email": "lou@acme.example"})
    deal = add_deal(app, acme, "Garden makeover")
    return {"contact": contact, "account": account, "lead": lead, "deal": deal}


@pytest.fixture
def viewer(app, acme, browser_as):
    """Sees every CRM record, may import, but may not export."""
    make_user(app, acme, "viewer@acme.example", [*VIEW_ALL, "crm.import"])
    return browser_as("viewer@acme.example", "user-password")


@pytest.fixture
def exporter(app, acme, browser_as):
    make_user(app, acme, "exporter@acme.example", [*VIEW_ALL, "crm.export"])
    return browser_as("exporter@acme.example", "user-password")


BULK = [("contacts", "ids", "contact"), ("accounts", "ids", "account"), ("leads", "ids", "lead")]


@pytest.mark.parametrize(("plural", "field", "key"), BULK)
def test_bulk_export_needs_crm_export(viewer, exporter, records, plural, field, key):
    data = {"action": "export", field: [str(records[key])]}
    assert viewer.post(f"/pipelines/{plural}/bulk", data=data).status_code == 403
    allowed = exporter.post(f"/pipelines/{plural}/bulk", data=data)
    assert allowed.status_code == 200 and [r["id"] for r in read_csv(allowed)] == [str(records[key])]


def test_deals_bulk_export_is_refused_with_a_message(viewer, exporter, records):
    data = {"action": "export", "deal_ids": [str(records["deal"])]}
    refused = viewer.post("/pipelines/deals/bulk", data=data, follow_redirects=True)
    assert "text/csv" not in refused.headers["Content-Type"]
    assert "Unauthorized" in html(refused) or "not allowed" in html(refused).lower()
    allowed = exporter.post("/pipelines/deals/bulk", data=data)
    assert [r["title"] for r in read_csv(allowed)] == ["Garden makeover"]


@pytest.mark.parametrize("url", ["/pipelines/contacts/export", "/pipelines/accounts/export",
                                 "/pipelines/deals/export", "/pipelines/leads/export",
                                 "/pipelines/import-export/export/contacts",
                                 "/pipelines/import-export/export/leads", "/pipelines/import-export/export/deals"])
def test_export_links_need_crm_export(viewer, exporter, records, url):
    assert viewer.get(url).status_code == 403
    allowed = exporter.get(url)
    assert allowed.status_code == 200 and len(read_csv(allowed)) == 1


@pytest.mark.parametrize("plural", ["contacts", "accounts"])
def test_lists_offer_export_only_with_crm_export(viewer, exporter, records, plural):
    hidden = html(viewer.get(f"/pipelines/{plural}/"))
    assert 'value="export"' not in hidden and 'id="export-all"' not in hidden
    shown = html(exporter.get(f"/pipelines/{plural}/?q=an"))
    assert 'value="export"' in shown
    assert f'id="export-all" href="/pipelines/{plural}/export?' in shown and "q=an" in shown


def test_a_large_export_is_a_job_with_progress_and_a_download(app, acme, owner_browser):
    add_contacts(app, acme, {"first_name": "=cmd|' /C calc'!A0", "last_name": "Zed"}, {"first_name": "Bea"})
    small = owner_browser.get("/pipelines/import-export/export/contacts").get_data()  # read before the next request
    app.config["EXPORT_STREAM_LIMIT"] = 1
    started = owner_browser.get("/pipelines/import-export/export/contacts")
    assert started.status_code == 303
    progress_url = started.headers["Location"]
    assert progress_url.startswith("/pipelines/import-export/exports/")
    page = html(owner_browser.get(progress_url))
    assert 'data-testid="export-status">Completed<' in page and "2 of 2 rows" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling
    download = owner_browser.get(f"{progress_url}/download")
    assert download.status_code == 200 and download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert download.get_data() == small
    assert {r["first_name"] for r in read_csv(download)} == {"'=cmd|' /C calc'!A0", "Bea"}
    listing = html(owner_browser.get("/pipelines/import-export/"))
    assert f'href="{progress_url}"' in listing


def test_a_running_export_page_polls(app, acme, owner_browser):
    with app.app_context(), tenant_scope(acme.business_id):
        export = ExportJob(kind="contacts", layout="list", params={}, status="running", rows_total=10, rows_done=4,
                           created_by_id=acme.owner_id)
        db.session.add(export)
        db.session.commit()
        export_id = export.id
    page = owner_browser.get(f"/pipelines/import-export/exports/{export_id}")
    assert 'hx-trigger="every 1s"' in html(page) and "4 of 10 rows" in html(page)
    fragment = owner_browser.get(f"/pipelines/import-export/exports/{export_id}", headers={"HX-Request": "true"})
    assert html(fragment).lstrip().startswith('<div id="export-progress"')
    not_yet = owner_browser.get(f"/pipelines/import-export/exports/{export_id}/download")
    assert not_yet.status_code == 409 and "This export is not finished yet." in html(not_yet)


def test_a_failed_export_shows_failed_and_offers_no_file(app, acme, owner_browser, monkeypatch):
    for number in range(4):
        add_deal(app, acme, f"Deal {number}")
    kind = exports.export_kind("deals")
    real = kind.rows

    def rows(actor, args):
        source = real(actor, args)

        def breaking():
            for number, row in enumerate(source):
                if number == 2:
                    raise RuntimeError("disk full")
                yield row

        return breaking()

    monkeypatch.setattr(kind, "rows", rows)
    app.config["EXPORT_STREAM_LIMIT"] = 1
    started = owner_browser.get("/pipelines/deals/export?sort=title")
    progress_url = started.headers["Location"]
    page = html(owner_browser.get(progress_url))
    assert 'data-testid="export-status">Failed<' in page
    assert "The export failed before it was complete" in page and 'data-testid="export-download"' not in page
    download = owner_browser.get(f"{progress_url}/download")
    assert download.status_code == 409 and "text/csv" not in download.headers["Content-Type"]


def test_someone_elses_export_is_404(app, acme, globex, owner_browser, exporter, browser_as):
    add_contacts(app, acme, {"first_name": "Ann"})
    app.config["EXPORT_STREAM_LIMIT"] = 0
    progress_url = owner_browser.get("/pipelines/import-export/export/contacts").headers["Location"]
    other = browser_as("owner@globex.example", "owner-password")
    for client in (exporter, other):
        assert client.get(progress_url).status_code == 404
        assert client.get(f"{progress_url}/download").status_code == 404
