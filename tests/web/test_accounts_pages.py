"""Accounts screens: list, filters, detail with its contacts and deals, in-place edits,
forms, bulk actions, delete, ownership and tenancy."""
import pytest

from app.pipelines.models import Account, Contact
from tests.conftest import make_user
from tests.pipelines.factories import add_accounts, add_contacts, add_custom_fields, add_deal, row

HTMX = {"HX-Request": "true"}


def html(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def seeded(app, acme, globex):
    initech, hooli = add_accounts(app, acme, {"name": "Initech", "industry": "Software", "domain": "initech.com",
                                              "phone": "+16502530000"},
                                  {"name": "Hooli", "industry": "Search"})
    add_accounts(app, globex, {"name": "Globex Secret"})
    return {"initech": initech, "hooli": hooli}


def test_list_search_and_sort(owner_browser, seeded):
    page = html(owner_browser.get("/pipelines/accounts/"))
    assert "Initech" in page and "Hooli" in page and "Globex Secret" not in page
    assert page.index("Hooli") < page.index("Initech") and "+1 650-253-0000" in page
    fragment = html(owner_browser.get("/pipelines/accounts/?q=initech", headers=HTMX))
    assert "<html" not in fragment and "Initech" in fragment and "Hooli" not in fragment
    desc = html(owner_browser.get("/pipelines/accounts/?sort=name&direction=desc"))
    assert desc.index("Initech") < desc.index("Hooli")


def test_detail_lists_contacts_and_deals(app, owner_browser, acme, seeded):
    add_contacts(app, acme, {"first_name": "Peter", "last_name": "Gibbons", "account_id": seeded["initech"]},
                 {"first_name": "Gavin", "last_name": "Belson", "account_id": seeded["hooli"]})
    add_deal(app, acme, "TPS reports", account_id=seeded["initech"])
    page = html(owner_browser.get(f"/pipelines/accounts/{seeded['initech']}"))
    assert "Peter Gibbons" in page and "Gavin Belson" not in page and "TPS reports" in page
    assert (f'<div id="timeline" hx-get="/pipelines/timeline/account/{seeded["initech"]}" hx-trigger="load"'
            ' hx-swap="innerHTML">Loading activity…</div>') in page
    assert f"/pipelines/contacts/new?account_id={seeded['initech']}" in page


def test_create_edit_in_place_and_delete(app, owner_browser, acme):
    add_custom_fields(app, acme, {"entity": "account", "key": "employees", "label": "Employees", "type": "number"})
    bad = owner_browser.post("/pipelines/accounts/new", data={"name": "", "cf.employees": "many"})
    assert bad.status_code == 422
    assert 'data-field-error="name"' in html(bad) and "The Employees must be a number." in html(bad)
    created = owner_browser.post("/pipelines/accounts/new", data={"name": "Vandelay", "domain": "www.vandelay.com",
                                                                  "cf.employees": "12"})
    assert created.status_code == 303
    account_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert (row(app, Account, account_id).domain, row(app, Account, account_id).custom_fields) == (
        "vandelay.com", {"employees": 12})

    url = f"/pipelines/accounts/{account_id}/fields/industry"
    assert 'name="industry"' in html(owner_browser.get(url, headers=HTMX))
    saved = owner_browser.post(url, data={"industry": "Import/export", "version": "1"}, headers=HTMX)
    assert saved.status_code == 200 and "Import/export" in html(saved)
    bad = owner_browser.post(f"/pipelines/accounts/{account_id}/fields/domain", data={"domain": "not a domain"},
                             headers=HTMX)
    assert bad.status_code == 422 and "The domain must be a domain name" in html(bad)

    [contact_id] = add_contacts(app, acme, {"first_name": "Art", "account_id": account_id})
    response = owner_browser.post(f"/pipelines/accounts/{account_id}/delete", headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/pipelines/accounts/"
    assert row(app, Account, account_id) is None and row(app, Contact, contact_id).account_id is None


def test_bulk_assign_and_delete(app, owner_browser, acme, seeded):
    other = make_user(app, acme, "priya@acme.example", ["accounts.view"], first_name="Priya")
    ids = [str(seeded["initech"]), str(seeded["hooli"])]
    owner_browser.post("/pipelines/accounts/bulk", data={"action": "assign", "owner_id": str(other), "ids": ids})
    assert row(app, Account, seeded["hooli"]).owner_id == other
    assert "Delete 2 accounts?" in html(owner_browser.post("/pipelines/accounts/bulk",
                                                           data={"action": "delete", "ids": ids}))
    owner_browser.post("/pipelines/accounts/bulk", data={"action": "delete", "confirmed": "1", "ids": ids})
    assert row(app, Account, seeded["initech"]) is None


def test_ownership_permissions_and_tenancy(app, owner_browser, browser_as, acme, globex, seeded):
    seller = make_user(app, acme, "seller@acme.example", ["accounts.view"])
    [mine] = add_accounts(app, acme, {"name": "Sellers Own", "owner_id": seller})
    client = browser_as("seller@acme.example", "user-password")
    page = html(client.get("/pipelines/accounts/"))
    assert "Sellers Own" in page and "Initech" not in page and "Add account" not in page
    assert client.get(f"/pipelines/accounts/{seeded['initech']}").status_code == 404
    assert client.get("/pipelines/accounts/new").status_code == 403
    assert client.post(f"/pipelines/accounts/{mine}/fields/name", data={"name": "X"}).status_code == 403

    [secret] = add_accounts(app, globex, {"name": "Their Co"})
    for url in (f"/pipelines/accounts/{secret}", f"/pipelines/accounts/{secret}/edit",
                f"/pipelines/accounts/{secret}/fields/name"):
        assert owner_browser.get(url).status_code == 404
    assert owner_browser.post(f"/pipelines/accounts/{secret}/fields/name", data={"name": "X"}).status_code == 404
    assert owner_browser.post(f"/pipelines/accounts/{secret}/delete").status_code == 404
    owner_browser.post("/pipelines/accounts/bulk", data={"action": "delete", "confirmed": "1", "ids": [str(secret)]})
    assert row(app, Account, secret).name == "Their Co"
