"""Deals list and deal page; sales settings (index, pipelines & stages)."""
import csv
import io

import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.conftest import make_user
from tests.web.sales_helpers import add_deals, column, deal_row, deal_values, stage_ids, use_number_format

HTMX = {"HX-Request": "true"}


@pytest.fixture
def stages(app, acme):
    return stage_ids(app, acme)


@pytest.fixture
def contact_ids(app, acme):
    from app.pipelines.models import Account, Contact

    with app.app_context(), tenant_scope(acme.business_id):
        account = Account(name="Kew Estates", owner_id=acme.owner_id)
        contact = Contact(first_name="Grace", last_name="Hopper", owner_id=acme.owner_id, account=account)
        db.session.add_all([account, contact])
        db.session.commit()
        return contact.id, account.id


@pytest.fixture
def listed(app, acme, globex, stages, contact_ids):
    contact_id, account_id = contact_ids
    ids = add_deals(app, acme,
                    {"title": "Alpine garden", "value": "500", "stage_id": stages["Qualified"], "contact_id": contact_id,
                     "account_id": account_id},
                    {"title": "Bamboo screen", "value": "1500", "stage_id": stages["Proposal"]},
                    {"title": "Cedar decking", "value": "900", "stage_id": stages["Won"]})
    add_deals(app, globex, {"title": "Globex secret deal"})
    return ids


def rows(html: str) -> int:
    return html.count('data-testid="deal-row"')


# --- the list ------------------------------------------------------------------------

def test_list_shows_own_business_deals(owner_browser, listed):
    html = owner_browser.get("/pipelines/deals").get_data(as_text=True)
    assert rows(html) == 3 and "Globex secret deal" not in html
    assert html.index("Cedar decking") < html.index("Alpine garden")  # newest first
    assert "$1,500.00" in html and "Grace Hopper" in html
    assert 'href="/pipelines/contacts/' in html and 'href="/pipelines/accounts/' in html
    assert "Showing 1–3 of 3" in html
    assert 'name="csrf_token"' in html


def test_live_search_returns_the_results_fragment(owner_browser, listed):
    response = owner_browser.get("/pipelines/deals?q=bamb", headers=HTMX)
    html = response.get_data(as_text=True)
    assert "<html" not in html and rows(html) == 1 and "Bamboo screen" in html
    assert "HX-Request" in response.headers["Vary"]


def test_filters_and_sort_in_the_url(owner_browser, stages, listed):
    assert rows(owner_browser.get("/pipelines/deals?status=won").get_data(as_text=True)) == 1
    html = owner_browser.get(f"/pipelines/deals?stage_id={stages['Proposal']}").get_data(as_text=True)
    assert "Bamboo screen" in html and rows(html) == 1
    html = owner_browser.get("/pipelines/deals?sort=value&direction=desc").get_data(as_text=True)
    assert html.index("Bamboo screen") < html.index("Cedar decking") < html.index("Alpine garden")
    html = owner_browser.get("/pipelines/deals?per_page=2&sort=title&page=2").get_data(as_text=True)
    assert rows(html) == 1 and "Cedar decking" in html
    bad = owner_browser.get("/pipelines/deals?q=x")
    assert bad.status_code == 200 and "The q field must be at least 2 characters." in bad.get_data(as_text=True)


def test_bulk_assign_owner(app, acme, owner_browser, listed):
    seller = make_user(app, acme, "seller@acme.example", permissions=["deals.view"])
    response = owner_browser.post("/pipelines/deals/bulk", data={"action": "assign", "owner_id": seller,
                                                                "deal_ids": listed[:2], "next": "/pipelines/deals"})
    assert response.status_code == 303
    assert [deal_row(app, i).owner_id for i in listed] == [seller, seller, acme.owner_id]


def test_bulk_delete_keeps_positions_dense(app, owner_browser, stages, listed):
    owner_browser.post("/pipelines/deals/bulk", data={"action": "delete", "deal_ids": [listed[0]]})
    assert deal_row(app, listed[0]) is None and deal_row(app, listed[1]) is not None
    assert column(app, stages["Qualified"]) == []


def test_bulk_export_and_export_all(owner_browser, listed):
    response = owner_browser.post("/pipelines/deals/bulk", data={"action": "export", "deal_ids": listed[:2]})
    assert response.mimetype == "text/csv"
    found = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(r["title"] for r in found) == ["Alpine garden", "Bamboo screen"]
    everything = owner_browser.get("/pipelines/deals/export?status=open").get_data(as_text=True)
    assert "Alpine garden" in everything and "Cedar decking" not in everything and "Globex" not in everything


def test_bulk_needs_ticked_deals_and_permissions(app, acme, browser_as, owner_browser, listed):
    response = owner_browser.post("/pipelines/deals/bulk", data={"action": "delete"}, follow_redirects=True)
    assert "Tick the deals first." in response.get_data(as_text=True)
    make_user(app, acme, "reader@acme.example", permissions=["deals.view_all"])
    reader = browser_as("reader@acme.example", "user-password")
    html = reader.get("/pipelines/deals").get_data(as_text=True)
    assert 'value="delete"' not in html and "Export CSV" not in html
    response = reader.post("/pipelines/deals/bulk", data={"action": "delete", "deal_ids": listed}, follow_redirects=True)
    assert "Unauthorized" in response.get_data(as_text=True) or response.status_code == 403
    assert deal_row(app, listed[0]) is not None


# --- one deal ------------------------------------------------------------------------

def test_deal_page_shows_fields_links_and_the_timeline_slot(owner_browser, listed, contact_ids):
    contact_id, account_id = contact_ids
    html = owner_browser.get(f"/pipelines/deals/{listed[0]}").get_data(as_text=True)
    assert 'data-testid="deal-title">Alpine garden<' in html
    assert (f'<div id="timeline" hx-get="/pipelines/timeline/deal/{listed[0]}" hx-trigger="load"'
            ' hx-swap="innerHTML">Loading activity…</div>') in html
    assert f'href="/pipelines/contacts/{contact_id}">Grace Hopper<' in html
    assert f'href="/pipelines/accounts/{account_id}">Kew Estates<' in html
    assert 'name="csrf_token"' in html and 'name="version" value="1"' in html
    assert 'aria-current="step">Qualified<' in html


def test_edit_a_deal(app, owner_browser, stages, listed, contact_ids):
    contact_id = contact_ids[0]
    response = owner_browser.post(f"/pipelines/deals/{listed[1]}", data={
        "title": "Bamboo screen (tall)", "value": "1,750.25", "stage_id": stages["Negotiation"], "contact_id": contact_id,
        "expected_close_date": "2027-05-01", "version": "1"})
    assert response.status_code == 303
    row = deal_row(app, listed[1])
    assert (row.title, str(row.value), row.stage_id, row.contact_id, row.expected_close_date.isoformat()) == (
        "Bamboo screen (tall)", "1750.25", stages["Negotiation"], contact_id, "2027-05-01")


def test_edit_errors_are_next_to_the_fields(app, owner_browser, stages, listed):
    response = owner_browser.post(f"/pipelines/deals/{listed[1]}", data={
        "title": "", "value": "lots", "stage_id": stages["Proposal"], "expected_close_date": "soon", "version": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field-error="title">The title field is required.' in html
    assert 'data-field-error="value">The value must be an amount like 1,234.56.' in html
    assert 'data-field-error="expected_close_date">The expected close date must be a date (YYYY-MM-DD).' in html
    assert 'value="lots"' in html
    assert deal_row(app, listed[1]).title == "Bamboo screen"


def test_a_stale_edit_is_refused(app, owner_browser, stages, listed):
    data = {"title": "First", "value": "1", "stage_id": stages["Proposal"], "version": "1"}
    owner_browser.post(f"/pipelines/deals/{listed[1]}", data=data)
    response = owner_browser.post(f"/pipelines/deals/{listed[1]}", data=dict(data, title="Second"))
    assert response.status_code == 409
    assert "Someone else changed this record" in response.get_data(as_text=True)
    assert deal_row(app, listed[1]).title == "First"


def test_mark_won_and_lost_on_the_deal_page(app, owner_browser, listed):
    owner_browser.post(f"/pipelines/deals/{listed[0]}/lost", data={"lost_reason": ""})
    assert deal_row(app, listed[0]).status == "open"
    owner_browser.post(f"/pipelines/deals/{listed[0]}/lost", data={"lost_reason": "Went quiet"})
    assert (deal_row(app, listed[0]).status, deal_row(app, listed[0]).lost_reason) == ("lost", "Went quiet")
    owner_browser.post(f"/pipelines/deals/{listed[0]}/won", data={})
    assert deal_row(app, listed[0]).status == "won"


def test_add_a_deal_page(app, owner_browser, stages):
    html = owner_browser.get(f"/pipelines/deals/new?stage_id={stages['Proposal']}").get_data(as_text=True)
    assert f'<option value="{stages["Proposal"]}" selected>' in html
    bad = owner_browser.post("/pipelines/deals/new", data={"title": "", "stage_id": stages["Proposal"]})
    assert bad.status_code == 422 and 'data-field-error="title"' in bad.get_data(as_text=True)
    response = owner_browser.post("/pipelines/deals/new", data={"title": "Water feature", "value": "2400",
                                                               "stage_id": stages["Proposal"]})
    assert response.status_code == 303
    assert column(app, stages["Proposal"]) == [("Water feature", 0)]


def test_delete_from_the_deal_page(app, owner_browser, listed):
    response = owner_browser.post(f"/pipelines/deals/{listed[0]}/delete", headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith("/pipelines/deals")
    assert deal_row(app, listed[0]) is None


def test_someone_elses_deal_is_404_without_view_all(app, acme, browser_as, listed):
    make_user(app, acme, "seller@acme.example", permissions=["deals.view"])
    seller = browser_as("seller@acme.example", "user-password")
    assert seller.get(f"/pipelines/deals/{listed[0]}").status_code == 404
    assert rows(seller.get("/pipelines/deals").get_data(as_text=True)) == 0


# --- settings ------------------------------------------------------------------------

def test_settings_index_links_every_section(owner_browser):
    html = owner_browser.get("/pipelines/settings").get_data(as_text=True)
    for href in ("/pipelines/settings/pipelines", "/pipelines/settings/custom-fields",
                 "/pipelines/settings/capture-forms", "/pipelines/settings/webhook"):
        assert f'href="{href}"' in html


def test_pipelines_settings_page(owner_browser, stages):
    html = owner_browser.get("/pipelines/settings/pipelines").get_data(as_text=True)
    assert html.count('data-testid="stage-row"') == 6
    assert 'value="Contact made"' in html and 'name="csrf_token"' in html
    assert "vendor/sortablejs-1.15.6/Sortable.min.js" in html


def test_settings_need_pipelines_manage(app, acme, browser_as):
    make_user(app, acme, "seller@acme.example", permissions=["deals.view"])
    seller = browser_as("seller@acme.example", "user-password")
    assert seller.get("/pipelines/settings/pipelines").status_code == 403
    assert "Your role cannot change these." in seller.get("/pipelines/settings").get_data(as_text=True)


def test_create_rename_and_delete_a_pipeline(app, acme, owner_browser):
    from app.pipelines.models import Pipeline

    response = owner_browser.post("/pipelines/settings/pipelines/new", data={"name": "Renewals"}, headers=HTMX)
    assert response.status_code == 200 and "Renewals" in response.get_data(as_text=True)
    with app.app_context(), tenant_scope(acme.business_id):
        renewals = db.session.scalar(select(Pipeline).where(Pipeline.name == "Renewals"))
        pipeline_id, stage_count = renewals.id, len(renewals.stages)
    assert stage_count == 6
    owner_browser.post(f"/pipelines/settings/pipelines/{pipeline_id}", data={"name": "Renewals 2027", "is_default": "1"})
    with app.app_context(), tenant_scope(acme.business_id):
        assert db.session.get(Pipeline, pipeline_id).is_default is True
    refused = owner_browser.post(f"/pipelines/settings/pipelines/{pipeline_id}/delete", headers=HTMX)
    assert refused.status_code == 409 and "The default pipeline cannot be deleted" in refused.get_data(as_text=True)
    blank = owner_browser.post("/pipelines/settings/pipelines/new", data={"name": ""}, headers=HTMX)
    assert blank.status_code == 422
    assert 'data-field-error="new_pipeline.name">The name field is required.' in blank.get_data(as_text=True)


def test_stage_edit_add_reorder_and_delete(app, acme, owner_browser, stages):
    from app.pipelines import pipelines

    base = None
    with app.app_context(), tenant_scope(acme.business_id):
        base = f"/pipelines/settings/pipelines/{pipelines.default_pipeline().id}/stages"
    bad = owner_browser.post(f"{base}/{stages['Proposal']}", headers=HTMX,
                             data={"name": "Proposal", "probability": "150", "kind": "open", "version": "1"})
    assert bad.status_code == 422
    assert (f'data-field-error="stage{stages["Proposal"]}.probability">The probability must be a whole number'
            ' between 0 and 100.') in bad.get_data(as_text=True)
    ok = owner_browser.post(f"{base}/{stages['Proposal']}", headers=HTMX,
                            data={"name": "Quote sent", "probability": "55", "kind": "open", "rotting_days": "10",
                                  "version": "1"})
    assert ok.status_code == 200 and 'value="Quote sent"' in ok.get_data(as_text=True)
    order = list(stages.values())[::-1]
    owner_browser.post(f"{base}/order", data={"stage_ids": order})
    owner_browser.post(f"{base}/order", data={"move": "down", "stage_id": order[0]})
    owner_browser.post(base, data={"name": "Site visit", "probability": "30", "kind": "open"})
    with app.app_context(), tenant_scope(acme.business_id):
        names = [s.name for s in pipelines.default_pipeline().stages]
    assert names == ["Won", "Lost", "Negotiation", "Quote sent", "Contact made", "Qualified", "Site visit"]
    add_deals(app, acme, {"title": "Stuck", "stage_id": stages["Qualified"]})
    refused = owner_browser.post(f"{base}/{stages['Qualified']}/delete", headers=HTMX, data={})
    assert refused.status_code == 409
    assert "holds 1 deal. Choose a stage to move them to" in refused.get_data(as_text=True)
    owner_browser.post(f"{base}/{stages['Qualified']}/delete", data={"move_deals_to": stages["Won"]})
    assert column(app, stages["Won"]) == [("Stuck", 0)]


def test_dashboard_shows_the_open_deal_value(owner_browser, listed):
    html = owner_browser.get("/").get_data(as_text=True)
    assert 'data-testid="stat-open-deals"' in html and "$2,000" in html and "2 in the pipelines" in html


def test_dashboard_hides_deals_from_those_who_cannot_see_them(app, acme, browser_as):
    make_user(app, acme, "clerk@acme.example", permissions=["locations.view"])
    html = browser_as("clerk@acme.example", "user-password").get("/").get_data(as_text=True)
    assert "stat-open-deals" not in html


# --- amounts: read exactly, or refused at the field ---------------------------------------

UNREADABLE = "The value must be an amount like 1,234.56."


@pytest.mark.parametrize("value", ["1e9", "1.5k", "0x10", "12abc", "1.234,56"])
def test_add_a_deal_refuses_an_amount_it_cannot_read(app, acme, owner_browser, stages, value):
    """These were saved as 19, 1.50, 10, 12 and 1.23456 with "Deal added"."""
    response = owner_browser.post("/pipelines/deals/new", data={"title": "Water feature", "value": value,
                                                                "stage_id": stages["Proposal"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'data-field-error="value">{UNREADABLE}<' in html and f'value="{value}"' in html
    assert "added." not in html and "alert-success" not in html
    assert deal_values(app, acme) == []


@pytest.mark.parametrize("value", ["1e9", "1.5k", "0x10", "12abc"])
def test_edit_a_deal_refuses_an_amount_it_cannot_read(app, owner_browser, stages, listed, value):
    response = owner_browser.post(f"/pipelines/deals/{listed[1]}", data={
        "title": "Bamboo screen", "value": value, "stage_id": stages["Proposal"], "version": "1"})
    assert response.status_code == 422
    assert f'data-field-error="value">{UNREADABLE}<' in response.get_data(as_text=True)
    assert str(deal_row(app, listed[1]).value) == "1500.00"


def test_amounts_in_the_business_number_format(app, acme, owner_browser, stages, listed):
    owner_browser.post("/pipelines/deals/new", data={"title": "Dot", "value": "1,234.56", "stage_id": stages["Proposal"]})
    use_number_format(app, acme, ",")
    created = owner_browser.post("/pipelines/deals/new", data={"title": "Comma", "value": "1.234,56",
                                                               "stage_id": stages["Proposal"]})
    assert created.status_code == 303
    refused = owner_browser.post("/pipelines/deals/new", data={"title": "Wrong", "value": "1,234.56",
                                                               "stage_id": stages["Proposal"]})
    assert refused.status_code == 422
    assert 'data-field-error="value">The value must be an amount like 1.234,56.<' in refused.get_data(as_text=True)
    negative = owner_browser.post(f"/pipelines/deals/{listed[1]}", data={
        "title": "Bamboo screen", "value": "-5", "stage_id": stages["Proposal"], "version": "1"})
    assert 'data-field-error="value">The value must be at least 0.<' in negative.get_data(as_text=True)
    edited = owner_browser.post(f"/pipelines/deals/{listed[1]}", data={
        "title": "Bamboo screen", "value": "2.500,5", "stage_id": stages["Proposal"], "version": "1"})
    assert edited.status_code == 303
    assert dict(deal_values(app, acme)) == {"Alpine garden": "500.00", "Bamboo screen": "2500.50",
                                            "Cedar decking": "900.00", "Comma": "1234.56", "Dot": "1234.56"}


# --- another business's deal: 404 on every face, htmx included ----------------------------

@pytest.fixture
def their_deal(app, globex):
    return add_deals(app, globex, {"title": "Globex secret deal", "value": "700"})[0]


@pytest.mark.parametrize("action, data", [("won", {}), ("lost", {"lost_reason": "Gone"}), ("delete", {}),
                                          ("", {"title": "Mine now", "value": "1", "version": "1"})])
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_another_business_deal_is_404_for_every_action(app, owner_browser, their_deal, action, data, headers):
    """An htmx POST to their deal's /won answered 204 with a redirect (and a flashed "Not found")."""
    url = f"/pipelines/deals/{their_deal}" + (f"/{action}" if action else "")
    response = owner_browser.post(url, data=data, headers=headers)
    assert response.status_code == 404
    assert "HX-Redirect" not in response.headers
    row = deal_row(app, their_deal)
    assert (row.title, row.status, str(row.value), row.lost_reason) == ("Globex secret deal", "open", "700.00", None)
