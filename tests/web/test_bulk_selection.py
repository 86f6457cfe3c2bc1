"""Bulk actions on the contacts, accounts and deals lists: the bulk bar's selects never
reload the list (which unticked every row), and "select all N matching" applies an action
to every row the list's filters match, re-run on the server under the visibility rules."""
import re
from urllib.parse import parse_qs, urlencode

import pytest

from app.pipelines.models import Account, Contact, Deal
from tests.conftest import make_user
from tests.pipelines.factories import add_accounts, add_contacts, row
from tests.web.sales_helpers import add_deals, stage_ids

HTMX = {"HX-Request": "true"}


def html(response) -> str:
    return response.get_data(as_text=True)


def filter_form(page: str, form_id: str) -> str:
    match = re.search(rf'<form[^>]*id="{form_id}".*?</form>', page, re.S)
    assert match, f"no form #{form_id}"
    return match.group(0)


@pytest.mark.parametrize("url, form_id", [("/pipelines/contacts/", "contact-filters"),
                                          ("/pipelines/accounts/", "account-filters"),
                                          ("/pipelines/deals", "deal-filters")])
def test_only_the_filter_selects_reload_the_list(owner_browser, url, form_id):
    """`change from:select` listened to every select on the page, the bulk bar's owner
    select too: picking a new owner reloaded the rows and unticked them."""
    page = html(owner_browser.get(url))
    form = filter_form(page, form_id)
    trigger = re.search(r'hx-trigger="([^"]+)"', form).group(1)
    assert "from:select" not in trigger and f"change from:(#{form_id} select)" in trigger
    assert 'id="bulk-owner"' in page and 'id="bulk-owner"' not in form
    assert "onclick" not in page  # no inline handlers (Content-Security-Policy)


@pytest.fixture
def many_contacts(app, acme):
    """25 contacts: 22 customers and 3 leads (more than a page of 20)."""
    return add_contacts(app, acme, *({"first_name": f"Cust{n:02d}", "last_name": "Omer", "status": "Customer"}
                                     for n in range(22)),
                        *({"first_name": f"Lead{n}", "last_name": "Person", "status": "Lead"} for n in range(3)))


def test_the_list_offers_select_all_matching_when_there_are_more_pages(owner_browser, many_contacts):
    page = html(owner_browser.get("/pipelines/contacts/?status=Customer"))
    offer = re.search(r'<div class="select-matching.*?</div>', page, re.S).group(0)
    assert 'data-select-matching="#contact-rows"' in offer and "hidden" in offer
    assert "All 20 contacts on this page are ticked." in offer and "Select all 22 matching contacts" in offer
    list_query = re.search(r'name="list_query" value="([^"]*)"', page).group(1).replace("&amp;", "&")
    assert parse_qs(list_query) == {"status": ["Customer"], "sort": ["name"], "direction": ["asc"]}
    one_page = html(owner_browser.get("/pipelines/contacts/?status=Lead"))
    assert "data-select-matching" not in one_page  # all three rows fit: nothing more to select


def test_assign_all_matching_contacts(app, acme, owner_browser, many_contacts):
    seller = make_user(app, acme, "seller@acme.example", ["contacts.view"])
    response = owner_browser.post("/pipelines/contacts/bulk", data={
        "action": "assign", "owner_id": seller, "all_matching": "1",
        "list_query": urlencode({"status": "Customer", "sort": "name"}), "next": "/pipelines/contacts/?status=Customer"})
    assert response.status_code == 303 and response.headers["Location"] == "/pipelines/contacts/?status=Customer"
    owners = [row(app, Contact, cid).owner_id for cid in many_contacts]
    assert owners[:22] == [seller] * 22 and owners[22:] == [acme.owner_id] * 3
    followed = html(owner_browser.get("/pipelines/contacts/"))
    assert "Changed the owner of 22 contacts." in followed


def test_all_matching_ignores_ticked_ids_and_searches_like_the_list(app, owner_browser, many_contacts):
    owner_browser.post("/pipelines/contacts/bulk", data={
        "action": "status", "status": "Lead", "all_matching": "1", "ids": [many_contacts[0]],
        "list_query": urlencode({"q": "Cust0"})})
    statuses = [row(app, Contact, cid).status for cid in many_contacts]
    assert statuses[:10] == ["Lead"] * 10 and statuses[10:22] == ["Customer"] * 12


def test_all_matching_keeps_to_what_the_user_may_see(app, acme, browser_as, many_contacts):
    """Staff without contacts.view_all act on their own contacts only, whatever matches."""
    seller = make_user(app, acme, "seller@acme.example", ["contacts.view", "contacts.update"])
    mine = add_contacts(app, acme, *({"first_name": f"Mine{n}", "status": "Customer", "owner_id": seller}
                                     for n in range(2)))
    client = browser_as("seller@acme.example", "user-password")
    client.post("/pipelines/contacts/bulk", data={"action": "status", "status": "Lead", "all_matching": "1",
                                                  "list_query": "status=Customer"})
    assert [row(app, Contact, cid).status for cid in mine] == ["Lead", "Lead"]
    assert {row(app, Contact, cid).status for cid in many_contacts[:22]} == {"Customer"}


def test_all_matching_delete_confirms_with_the_count(app, owner_browser, many_contacts):
    data = {"action": "delete", "all_matching": "1", "list_query": "status=Customer"}
    confirm = owner_browser.post("/pipelines/contacts/bulk", data=data)
    page = html(confirm)
    assert confirm.status_code == 200 and "Delete all 22 matching contacts?" in page
    assert "Delete 22 contacts</button>" in page
    assert 'name="all_matching" value="1"' in page and 'name="list_query" value="status=Customer"' in page
    assert row(app, Contact, many_contacts[0]) is not None
    done = owner_browser.post("/pipelines/contacts/bulk", data={**data, "confirmed": "1"})
    assert done.status_code == 303
    assert [cid for cid in many_contacts if row(app, Contact, cid) is not None] == many_contacts[22:]


def test_all_matching_with_a_bad_query_changes_nothing(app, owner_browser, many_contacts):
    response = owner_browser.post("/pipelines/contacts/bulk", data={
        "action": "status", "status": "Lead", "all_matching": "1", "list_query": "sort=shoe_size"},
        follow_redirects=True)
    assert "The selected sort is invalid." in html(response)
    assert {row(app, Contact, cid).status for cid in many_contacts[:22]} == {"Customer"}


def test_all_matching_contacts_of_another_business_are_untouched(app, acme, globex, owner_browser, many_contacts):
    [theirs] = add_contacts(app, globex, {"first_name": "Globex", "status": "Customer"})
    owner_browser.post("/pipelines/contacts/bulk", data={"action": "status", "status": "Lead", "all_matching": "1",
                                                         "list_query": "status=Customer"})
    assert row(app, Contact, theirs).status == "Customer"
    assert row(app, Contact, many_contacts[0]).status == "Lead"


def test_assign_all_matching_accounts(app, acme, owner_browser):
    ids = add_accounts(app, acme, *({"name": f"Acc {n:02d}", "industry": "Retail" if n < 23 else "Farming"}
                                    for n in range(26)))
    seller = make_user(app, acme, "seller@acme.example", ["accounts.view"])
    page = html(owner_browser.get("/pipelines/accounts/?industry=Retail"))
    assert "Select all 23 matching accounts" in page
    owner_browser.post("/pipelines/accounts/bulk", data={"action": "assign", "owner_id": seller, "all_matching": "1",
                                                         "list_query": "industry=Retail"})
    assert [row(app, Account, i).owner_id for i in ids].count(seller) == 23
    confirm = html(owner_browser.post("/pipelines/accounts/bulk", data={"action": "delete", "all_matching": "1",
                                                                          "list_query": "industry=Farming"}))
    assert "Delete all 3 matching accounts?" in confirm


def test_assign_all_matching_deals(app, acme, owner_browser):
    stages = stage_ids(app, acme)
    ids = add_deals(app, acme, *({"title": f"Deal {n:02d}", "value": "10",
                                  "stage_id": stages["Proposal" if n < 21 else "Qualified"]} for n in range(24)))
    seller = make_user(app, acme, "seller@acme.example", ["deals.view"])
    page = html(owner_browser.get(f"/pipelines/deals?stage_id={stages['Proposal']}"))
    assert "Select all 21 matching deals" in page
    assert f'name="next" value="/pipelines/deals?page=1&amp;per_page=20&amp;sort=created_at&amp;direction=desc&amp;stage_id={stages["Proposal"]}"' in page
    response = owner_browser.post("/pipelines/deals/bulk", data={
        "action": "assign", "owner_id": seller, "all_matching": "1", "list_query": f"stage_id={stages['Proposal']}"},
        follow_redirects=True)
    assert "21 deals assigned." in html(response)
    assert [row(app, Deal, i).owner_id for i in ids].count(seller) == 21


def test_all_matching_reaches_past_one_batch_of_ids(app, acme, owner_browser):
    """Bulk writes read their rows 500 ids at a time; "all matching" may name more."""
    ids = add_contacts(app, acme, *({"first_name": f"P{n:03d}", "status": "Lead"} for n in range(510)))
    response = owner_browser.post("/pipelines/contacts/bulk", data={
        "action": "status", "status": "Customer", "all_matching": "1", "list_query": "status=Lead"},
        follow_redirects=True)
    assert "Changed the status of 510 contacts." in html(response)
    assert row(app, Contact, ids[-1]).status == "Customer"


def test_all_matching_refuses_more_than_its_limit(app, monkeypatch, owner_browser, many_contacts):
    from app.pipelines import contacts

    monkeypatch.setattr(contacts, "MATCHING_MAX", 10)
    response = owner_browser.post("/pipelines/contacts/bulk", data={
        "action": "status", "status": "Lead", "all_matching": "1", "list_query": "status=Customer"},
        follow_redirects=True)
    assert "A bulk action applies to at most 10 records at a time; narrow the search or filters first." in html(response)
    assert row(app, Contact, many_contacts[0]).status == "Customer"


def test_export_all_matching_contacts_is_the_lists_own_export(owner_browser, many_contacts):
    """All matching rows can be many: the list's export streams them, or queues a job."""
    query = urlencode({"status": "Customer", "sort": "name"})
    answer = owner_browser.post("/pipelines/contacts/bulk", data={
        "action": "export", "all_matching": "1", "list_query": query, "ids": ["1"]})
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/pipelines/contacts/export?{query}"
    csv = owner_browser.get(answer.headers["Location"]).get_data(as_text=True)
    assert csv.count("Customer") == 22 and "Lead0" not in csv


def test_export_all_matching_deals_is_the_lists_own_export(app, acme, owner_browser):
    stages = stage_ids(app, acme)
    add_deals(app, acme, *({"title": f"Deal {n:02d}", "value": "10", "stage_id": stages["Proposal"]} for n in range(3)))
    query = f"stage_id={stages['Proposal']}"
    answer = owner_browser.post("/pipelines/deals/bulk", data={
        "action": "export", "all_matching": "1", "list_query": query})
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/pipelines/deals/export?{query}"
    csv = owner_browser.get(answer.headers["Location"]).get_data(as_text=True)
    assert all(f"Deal {n:02d}" in csv for n in range(3))


@pytest.mark.parametrize("url, ids_name, model", [("/pipelines/contacts/bulk", "ids", Contact),
                                                  ("/pipelines/accounts/bulk", "ids", Account)])
def test_assign_without_choosing_an_owner_changes_nothing(app, acme, owner_browser, url, ids_name, model):
    """The owner select starts on "Choose an owner…" (which posts nothing): pressing Assign
    before choosing used to take every ticked row's owner away ("No owner" came first)."""
    make = add_contacts if model is Contact else add_accounts
    first = {"first_name": "Ann"} if model is Contact else {"name": "Ann Ltd"}
    ids = make(app, acme, first)
    page = html(owner_browser.get(url.replace("/bulk", "/")))
    assert '<option value="" selected disabled>Choose an owner…</option>' in page
    assert '<option value="none">No owner</option>' in page
    answer = owner_browser.post(url, data={"action": "assign", ids_name: ids}, follow_redirects=True)
    assert "Choose the new owner first." in html(answer)
    assert row(app, model, ids[0]).owner_id == acme.owner_id
    owner_browser.post(url, data={"action": "assign", "owner_id": "none", ids_name: ids})
    assert row(app, model, ids[0]).owner_id is None


def test_deals_assign_without_choosing_an_owner_changes_nothing(app, acme, owner_browser):
    stages = stage_ids(app, acme)
    ids = add_deals(app, acme, {"title": "Kept", "value": "10", "stage_id": stages["Proposal"]})
    page = html(owner_browser.get("/pipelines/deals"))
    assert '<option value="" selected disabled>Choose an owner…</option>' in page
    answer = owner_browser.post("/pipelines/deals/bulk", data={"action": "assign", "deal_ids": ids},
                                follow_redirects=True)
    assert "Choose the new owner first." in html(answer)
    assert row(app, Deal, ids[0]).owner_id == acme.owner_id
    owner_browser.post("/pipelines/deals/bulk", data={"action": "assign", "owner_id": "none", "deal_ids": ids})
    assert row(app, Deal, ids[0]).owner_id is None


INJECTED = "a=b\r\nX-Injected: 1"  # the security review's body: `a` is no filter, so all rows match


def test_export_all_matching_contacts_with_a_newline_in_the_query_redirects_cleanly(owner_browser, many_contacts):
    answer = owner_browser.post("/pipelines/contacts/bulk", data={
        "action": "export", "all_matching": "1", "list_query": INJECTED})
    assert answer.status_code == 303  # was a 500: "Header values must not contain newline characters"
    assert answer.headers["Location"] == "/pipelines/contacts/export?a=b%0D%0AX-Injected%3A+1"
    assert "X-Injected" not in answer.headers


def test_export_all_matching_deals_with_a_newline_in_the_query_redirects_cleanly(app, acme, owner_browser):
    stages = stage_ids(app, acme)
    add_deals(app, acme, {"title": "Deal 01", "value": "10", "stage_id": stages["Proposal"]})
    answer = owner_browser.post("/pipelines/deals/bulk", data={
        "action": "export", "all_matching": "1", "list_query": INJECTED})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/pipelines/deals/export?a=b%0D%0AX-Injected%3A+1"
    assert "X-Injected" not in answer.headers
