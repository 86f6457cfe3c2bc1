"""Leads screens: list (search, filters, sort, bulk), new, detail with editable fields,
timeline placeholder, convert dialog (htmx modal and plain page), ownership and tenancy."""
import csv
import io

import pytest

from app.pipelines.models import Contact, Deal, Lead
from tests.conftest import make_user
from tests.leads_support import add_leads, add_pipeline, rows


@pytest.fixture
def seeded(app, acme, globex):
    ids = add_leads(app, acme,
                    {"first_name": "Ann", "last_name": "Archer", "email": "ann@example.com", "source": "web",
                     "company_name": "Archer Gardens"},
                    {"first_name": "Bob", "last_name": "Baker", "email": "bob@example.com", "status": "qualified",
                     "source": "referral"},
                    {"first_name": "<script>alert(1)</script>", "email": "xss@example.com"})
    add_leads(app, globex, {"first_name": "Globex", "last_name": "Secret", "owner_id": globex.owner_id})
    return ids


def test_list_shows_own_business_escaped(owner_browser, seeded):
    response = owner_browser.get("/pipelines/leads")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ann Archer" in html and "Bob Baker" in html and "Archer Gardens" in html
    assert "Globex Secret" not in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="/pipelines/leads"' in html and 'aria-current="page"' in html  # the sales sub-navigation
    assert 'name="csrf_token"' in html and 'form="bulk-form"' in html


def test_live_search_filters_and_sort_fragment(owner_browser, seeded):
    response = owner_browser.get("/pipelines/leads?q=arch", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Ann Archer" in html and "Bob Baker" not in html
    assert "HX-Request" in response.headers["Vary"]
    html = owner_browser.get("/pipelines/leads?status=qualified").get_data(as_text=True)
    assert "Bob Baker" in html and "Ann Archer" not in html
    html = owner_browser.get("/pipelines/leads?source=web").get_data(as_text=True)
    assert "Ann Archer" in html and "Bob Baker" not in html
    html = owner_browser.get("/pipelines/leads?sort=last_name&direction=desc").get_data(as_text=True)
    assert html.index("Bob Baker") < html.index("Ann Archer")
    bad = owner_browser.get("/pipelines/leads?status=nonsense")
    assert bad.status_code == 200 and "The status filter must be one of" in bad.get_data(as_text=True)


def test_pagination_in_url(app, owner_browser, acme):
    add_leads(app, acme, *({"first_name": f"P{n:02}", "email": f"p{n}@example.com"} for n in range(25)))
    html = owner_browser.get("/pipelines/leads?sort=first_name&per_page=20&page=2").get_data(as_text=True)
    assert "P20" in html and "P19" not in html and "Showing 21–25 of 25" in html


def test_bulk_assign_status_delete_and_export(app, owner_browser, acme, seeded):
    seller = make_user(app, acme, "seller@acme.example", permissions=["leads.view"])
    ann, bob, _ = seeded
    response = owner_browser.post("/pipelines/leads/bulk", data={"ids": [ann, bob], "action": "assign",
                                                                 "owner_id": str(seller),
                                                                 "next": "/pipelines/leads?status=new"})
    assert response.status_code == 303 and response.headers["Location"] == "/pipelines/leads?status=new"
    assert {lead.owner_id for lead in rows(app, Lead) if lead.id in (ann, bob)} == {seller}

    owner_browser.post("/pipelines/leads/bulk", data={"ids": [ann], "action": "status", "status": "contacted"})
    assert rows(app, Lead, id=ann)[0].status == "contacted"

    exported = owner_browser.post("/pipelines/leads/bulk", data={"ids": [ann, bob], "action": "export"})
    assert exported.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(exported.get_data(as_text=True)[1:])))
    assert sorted(row[table[0].index("email")] for row in table[1:]) == ["ann@example.com", "bob@example.com"]

    owner_browser.post("/pipelines/leads/bulk", data={"ids": [bob], "action": "delete"})
    assert [lead.id for lead in rows(app, Lead, id=bob)] == []

    nothing = owner_browser.post("/pipelines/leads/bulk", data={"action": "delete"}, follow_redirects=True)
    assert "Tick at least one lead first." in nothing.get_data(as_text=True)
    evil = owner_browser.post("/pipelines/leads/bulk", data={"ids": [ann], "action": "status", "status": "new",
                                                             "next": "https://evil.example/"})
    assert evil.headers["Location"] == "/pipelines/leads"


def test_bulk_cannot_touch_other_business(app, owner_browser, globex, seeded):
    (foreign,) = add_leads(app, globex, {"first_name": "G2", "owner_id": globex.owner_id})
    owner_browser.post("/pipelines/leads/bulk", data={"ids": [foreign], "action": "delete"})
    assert len(rows(app, Lead, id=foreign)) == 1


def test_export_all_matching(owner_browser, seeded):
    response = owner_browser.get("/pipelines/leads/export?status=qualified")
    assert response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert "bob@example.com" in body and "ann@example.com" not in body


def test_new_lead_form(app, owner_browser, acme):
    page = owner_browser.get("/pipelines/leads/new").get_data(as_text=True)
    assert 'name="first_name"' in page and 'name="csrf_token"' in page
    refused = owner_browser.post("/pipelines/leads/new", data={"company_name": "Nameless", "status": "new",
                                                               "owner_id": str(acme.owner_id)})
    assert refused.status_code == 422
    assert 'data-field-error="first_name"' not in refused.get_data(as_text=True)
    assert "The name field is required when email is not present." in refused.get_data(as_text=True)
    assert rows(app, Lead) == []
    created = owner_browser.post("/pipelines/leads/new", data={"first_name": "Nia", "email": "nia@example.com",
                                                               "phone": "+44 117 496 0123", "status": "new",
                                                               "owner_id": str(acme.owner_id)})
    (lead,) = rows(app, Lead)
    assert created.status_code == 303 and created.headers["Location"] == f"/pipelines/leads/{lead.id}"
    assert (lead.first_name, lead.phone, lead.owner_id) == ("Nia", "+441174960123", acme.owner_id)


def test_detail_shows_fields_timeline_and_convert_button(owner_browser, seeded):
    ann = seeded[0]
    html = owner_browser.get(f"/pipelines/leads/{ann}").get_data(as_text=True)
    assert (f'<div id="timeline" hx-get="/pipelines/timeline/lead/{ann}" hx-trigger="load" hx-swap="innerHTML">'
            'Loading activity…</div>') in html
    assert 'value="Archer Gardens"' in html and 'data-testid="convert-button"' in html
    assert f'hx-get="/pipelines/leads/{ann}/convert"' in html


def test_detail_edit_saves_and_shows_errors(app, owner_browser, acme, seeded):
    ann = seeded[0]
    base = {"first_name": "Ann", "last_name": "Archer", "status": "qualified", "owner_id": str(acme.owner_id),
            "version": "1"}
    bad = owner_browser.post(f"/pipelines/leads/{ann}", data={**base, "email": "not-an-email"})
    assert bad.status_code == 422
    assert 'data-field-error="email"' in bad.get_data(as_text=True)
    assert rows(app, Lead, id=ann)[0].status == "new"
    ok = owner_browser.post(f"/pipelines/leads/{ann}", data={**base, "email": "ann@archer.example"})
    assert ok.status_code == 303
    lead = rows(app, Lead, id=ann)[0]
    assert (lead.email, lead.status, lead.company_name) == ("ann@archer.example", "qualified", None)
    stale = owner_browser.post(f"/pipelines/leads/{ann}", data={**base, "email": "x@example.com"})
    assert stale.status_code == 409


def test_convert_modal_and_post(app, owner_browser, acme, seeded):
    pipeline = add_pipeline(app, acme)
    ann = seeded[0]
    modal = owner_browser.get(f"/pipelines/leads/{ann}/convert", headers={"HX-Request": "true"})
    html = modal.get_data(as_text=True)
    assert 'class="modal fade"' in html and "<html" not in html
    assert "A new account <strong>Archer Gardens</strong> will be created." in html
    assert "Sales › Proposal" in html
    page = owner_browser.get(f"/pipelines/leads/{ann}/convert").get_data(as_text=True)
    assert "<html" in page and 'id="convert-form"' in page  # the same form as a page without JS

    refused = owner_browser.post(f"/pipelines/leads/{ann}/convert", headers={"HX-Request": "true"},
                                 data={"contact": "new", "create_deal": "y", "deal_value": "lots",
                                       "stage_id": str(pipeline["stages"]["New"])})
    assert refused.status_code == 422
    assert "The deal value must be an amount like 1,234.56." in refused.get_data(as_text=True)
    assert rows(app, Contact) == []

    done = owner_browser.post(f"/pipelines/leads/{ann}/convert", headers={"HX-Request": "true"},
                              data={"contact": "new", "create_deal": "y", "deal_title": "Archer patio",
                                    "deal_value": "2500", "stage_id": str(pipeline["stages"]["Proposal"])})
    assert done.status_code == 204 and done.headers["HX-Redirect"] == f"/pipelines/leads/{ann}"
    (deal,) = rows(app, Deal)
    assert (deal.title, str(deal.value), deal.pipeline_id) == ("Archer patio", "2500.00", pipeline["id"])
    html = owner_browser.get(f"/pipelines/leads/{ann}").get_data(as_text=True)
    assert 'data-testid="converted-info"' in html and 'data-testid="convert-button"' not in html
    again = owner_browser.post(f"/pipelines/leads/{ann}/convert", data={"contact": "new"})
    assert again.status_code == 409 and "already been converted" in again.get_data(as_text=True)


def test_convert_shows_existing_contact_match(app, owner_browser, acme, seeded):
    from tests.leads_support import add_row

    add_row(app, acme, Contact, first_name="Bobby", last_name="Baker", email="bob@example.com",
            owner_id=acme.owner_id)
    html = owner_browser.get(f"/pipelines/leads/{seeded[1]}/convert").get_data(as_text=True)
    assert "Link to the existing contact <strong>Bobby Baker</strong> (bob@example.com)" in html


def test_other_business_and_other_owner_are_404(app, browser_as, owner_browser, acme, globex, seeded):
    (foreign,) = add_leads(app, globex, {"first_name": "G3", "owner_id": globex.owner_id})
    for url in (f"/pipelines/leads/{foreign}", f"/pipelines/leads/{foreign}/convert"):
        assert owner_browser.get(url).status_code == 404
    assert owner_browser.post(f"/pipelines/leads/{foreign}/delete").status_code == 404
    assert owner_browser.post(f"/pipelines/leads/{foreign}", data={"first_name": "X"}).status_code == 404

    make_user(app, acme, "seller@acme.example", permissions=["leads.view", "leads.update"])
    seller = browser_as("seller@acme.example", "user-password")
    assert seller.get(f"/pipelines/leads/{seeded[0]}").status_code == 404
    assert "Ann Archer" not in seller.get("/pipelines/leads").get_data(as_text=True)
    assert seller.get("/pipelines/leads/new").status_code == 403
