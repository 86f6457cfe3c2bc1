"""Contacts screens: list (search, filters, sort, pages, bulk actions), detail with fields
edited in place, create/edit forms with inline errors, delete, ownership and tenancy."""
import csv
import io

import pytest

from app.pipelines.models import Contact, Deal
from tests.conftest import make_user
from tests.pipelines.factories import add_accounts, add_contacts, add_custom_fields, add_deal, events, row

HTMX = {"HX-Request": "true"}


def html(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def seeded(app, acme, globex):
    [initech] = add_accounts(app, acme, {"name": "Initech"})
    ids = add_contacts(
        app, acme,
        {"first_name": "Ann", "last_name": "Archer", "email": "ann@example.com", "status": "Customer",
         "tags": ["vip"], "account_id": initech, "mobile_phone": "+441174960123"},
        {"first_name": "Ben", "last_name": "Baker", "email": "ben@bakery.example", "tags": ["newsletter"]},
        {"first_name": "<script>alert(1)</script>", "last_name": "Cole"},
    )
    add_contacts(app, globex, {"first_name": "Globex", "last_name": "Secret"})
    return {"initech": initech, "ann": ids[0], "ben": ids[1], "cole": ids[2]}


def test_list_shows_own_business_contacts_with_filters(owner_browser, seeded):
    page = html(owner_browser.get("/pipelines/contacts/"))
    assert "Ann Archer" in page and "Ben Baker" in page and "Secret" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)</script>" not in page
    assert "+44 117 496 0123" in page and ">Initech</a>" in page and ">vip</span>" in page
    assert 'href="/pipelines/contacts"' in page  # the sales sub-navigation
    assert 'name="csrf_token"' in page and 'action="/pipelines/contacts/bulk"' in page
    assert "Showing 1–3 of 3" in page


def test_live_search_and_filters_answer_the_results_fragment(owner_browser, seeded):
    response = owner_browser.get("/pipelines/contacts/?q=bakery", headers=HTMX)
    fragment = html(response)
    assert response.status_code == 200 and "<html" not in fragment
    assert "Ben Baker" in fragment and "Ann Archer" not in fragment
    assert "Ann Archer" in html(owner_browser.get("/pipelines/contacts/?status=Customer", headers=HTMX))
    assert "Ben Baker" not in html(owner_browser.get("/pipelines/contacts/?status=Customer", headers=HTMX))
    assert "Ann Archer" not in html(owner_browser.get("/pipelines/contacts/?tag=newsletter", headers=HTMX))
    by_account = html(owner_browser.get(f"/pipelines/contacts/?account_id={seeded['initech']}", headers=HTMX))
    assert "Ann Archer" in by_account and "Ben Baker" not in by_account


def test_sort_and_pages_stay_in_the_url(owner_browser, seeded):
    # Where a contact without an e-mail sorts differs (SQLite: last, PostgreSQL: first), so
    # the order is checked on one page and the paging on its own.
    whole = html(owner_browser.get("/pipelines/contacts/?sort=email&direction=desc&per_page=3"))
    assert whole.index("Ben Baker") < whole.index("Ann Archer")
    page = html(owner_browser.get("/pipelines/contacts/?sort=email&direction=desc&per_page=2"))
    assert "Page 1 of 2" in page
    assert "per_page=2" in page and "sort=email" in page
    bad = html(owner_browser.get("/pipelines/contacts/?sort=nope"))
    assert "The selected sort is invalid." in bad and "Ann Archer" in bad
    unknown_field = html(owner_browser.get("/pipelines/contacts/?cf[shoe]=9"))
    assert "There is no contact field named shoe." in unknown_field


def test_create_with_errors_next_to_fields_then_success(app, owner_browser, acme):
    add_custom_fields(app, acme, {"key": "seats", "label": "Seats", "type": "number"})
    form = html(owner_browser.get("/pipelines/contacts/new"))
    assert 'name="cf.seats"' in form and 'type="number"' in form and 'name="csrf_token"' in form

    response = owner_browser.post("/pipelines/contacts/new", data={
        "first_name": "Dora", "email": "bad", "cf.seats": "lots", "status": "Lead", "do_not_contact": "0"})
    assert response.status_code == 422
    page = html(response)
    assert 'data-field-error="email"' in page and "The email must be a valid email address." in page
    assert 'data-field-error="cf.seats"' in page and "The Seats must be a number." in page
    assert 'value="Dora"' in page
    assert 'data-testid="contact-row"' not in html(owner_browser.get("/pipelines/contacts/?q=dora", headers=HTMX))

    response = owner_browser.post("/pipelines/contacts/new", data={
        "first_name": "Dora", "last_name": "Dune", "email": "dora@example.com", "cf.seats": "3",
        "tags": "new, trade", "status": "Customer", "do_not_contact": ["0", "1"], "owner_id": str(acme.owner_id)})
    assert response.status_code == 303
    contact_id = int(response.headers["Location"].rsplit("/", 1)[1])
    stored = row(app, Contact, contact_id)
    assert (stored.email, stored.status, stored.do_not_contact, stored.custom_fields) == (
        "dora@example.com", "Customer", True, {"seats": 3})
    detail = html(owner_browser.get(f"/pipelines/contacts/{contact_id}"))
    assert "Contact “Dora Dune” added." in detail and ">trade</span>" in detail


def test_detail_shows_fields_deals_and_the_timeline(app, owner_browser, acme, seeded):
    add_deal(app, acme, "Hedge maintenance", contact_id=seeded["ann"], value=1250)
    add_deal(app, acme, "Somebody else's", contact_id=seeded["ben"])
    page = html(owner_browser.get(f"/pipelines/contacts/{seeded['ann']}"))
    assert "Ann Archer" in page and "ann@example.com" in page and "Customer" in page
    assert "Hedge maintenance" in page and "USD 1,250.00" in page and "Somebody else" not in page
    assert (f'<div id="timeline" hx-get="/pipelines/timeline/contact/{seeded["ann"]}" hx-trigger="load"'
            ' hx-swap="innerHTML">Loading activity…</div>') in page
    assert f'hx-get="/pipelines/contacts/{seeded["ann"]}/fields/last_name"' in page


def test_edit_a_field_in_place(app, owner_browser, seeded):
    url = f"/pipelines/contacts/{seeded['ann']}/fields/last_name"
    form = html(owner_browser.get(url, headers=HTMX))
    assert 'name="last_name"' in form and 'value="Archer"' in form and 'name="version" value="1"' in form
    assert 'name="csrf_token"' in form and "<html" not in form

    saved = owner_browser.post(url, data={"last_name": "Archer-Smith", "version": "1"}, headers=HTMX)
    assert saved.status_code == 200
    fragment = html(saved)
    assert "Archer-Smith" in fragment and 'hx-swap-oob="true"' in fragment  # the header too
    assert row(app, Contact, seeded["ann"]).last_name == "Archer-Smith"

    bad = owner_browser.post(f"/pipelines/contacts/{seeded['ann']}/fields/email", data={"email": "nope"},
                             headers=HTMX)
    assert bad.status_code == 422
    assert 'data-field-error="email"' in html(bad) and 'value="nope"' in html(bad)
    assert row(app, Contact, seeded["ann"]).email == "ann@example.com"

    stale = owner_browser.post(url, data={"last_name": "Old", "version": "1"}, headers=HTMX)
    assert stale.status_code == 422 and "Someone else changed this record" in html(stale)
    cancel = html(owner_browser.get(f"{url}?cancel=1", headers=HTMX))
    assert "Archer-Smith" in cancel and "<form" not in cancel.split('class="crm-field')[1].split("</div>")[0]
    assert owner_browser.get(f"/pipelines/contacts/{seeded['ann']}/fields/password").status_code == 404


def test_custom_checkbox_in_place_and_without_js(app, owner_browser, acme, seeded):
    add_custom_fields(app, acme, {"key": "vip", "label": "VIP", "type": "checkbox"})
    url = f"/pipelines/contacts/{seeded['ben']}/fields/cf.vip"
    assert 'type="checkbox"' in html(owner_browser.get(url, headers=HTMX))
    assert owner_browser.post(url, data={"cf.vip": ["0", "1"]}, headers=HTMX).status_code == 200
    assert row(app, Contact, seeded["ben"]).custom_fields == {"vip": True}
    # Without htmx the save redirects back to the page.
    response = owner_browser.post(url, data={"cf.vip": "0"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/contacts/{seeded['ben']}")
    assert row(app, Contact, seeded["ben"]).custom_fields == {"vip": False}


def test_full_edit_form(app, owner_browser, seeded):
    url = f"/pipelines/contacts/{seeded['ben']}/edit"
    assert 'value="Baker"' in html(owner_browser.get(url))
    response = owner_browser.post(url, data={"first_name": "Benjamin", "last_name": "Baker", "email": "ben@bakery.example",
                                             "status": "Lead", "tags": "", "version": "1", "do_not_contact": "0"})
    assert response.status_code == 303
    stored = row(app, Contact, seeded["ben"])
    assert stored.first_name == "Benjamin"
    stale = owner_browser.post(url, data={"first_name": "Old", "version": "1"})
    assert stale.status_code == 409 and "Someone else changed this record" in html(stale)


def test_delete_with_confirm(app, owner_browser, acme, seeded):
    page = html(owner_browser.get(f"/pipelines/contacts/{seeded['ben']}"))
    assert "hx-confirm=" in page
    deal_id = add_deal(app, acme, "Bread", contact_id=seeded["ben"])
    response = owner_browser.post(f"/pipelines/contacts/{seeded['ben']}/delete", headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/pipelines/contacts/"
    assert row(app, Contact, seeded["ben"]) is None and row(app, Deal, deal_id).contact_id is None
    assert [e["id"] for e in events(app, "contact.deleted")] == [seeded["ben"]]


def test_bulk_assign_status_export_and_delete(app, owner_browser, acme, seeded):
    other = make_user(app, acme, "priya@acme.example", ["contacts.view"], first_name="Priya")
    ids = [str(seeded["ann"]), str(seeded["ben"])]
    back = "/pipelines/contacts/?status=Lead"
    response = owner_browser.post("/pipelines/contacts/bulk", data={"action": "assign", "owner_id": str(other),
                                                                    "ids": ids, "next": back})
    assert response.status_code == 303 and response.headers["Location"] == back
    assert row(app, Contact, seeded["ann"]).owner_id == other == row(app, Contact, seeded["ben"]).owner_id
    assert row(app, Contact, seeded["cole"]).owner_id == acme.owner_id

    owner_browser.post("/pipelines/contacts/bulk", data={"action": "status", "status": "Customer", "ids": ids})
    assert row(app, Contact, seeded["ben"]).status == "Customer"
    bad = owner_browser.post("/pipelines/contacts/bulk", data={"action": "status", "status": "Royalty", "ids": ids},
                             follow_redirects=True)
    assert "The selected status is invalid." in html(bad)

    export = owner_browser.post("/pipelines/contacts/bulk", data={"action": "export", "ids": [str(seeded["cole"])]})
    assert export.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(html(export)[1:])))
    assert [r["last_name"] for r in rows] == ["Cole"]

    confirm = owner_browser.post("/pipelines/contacts/bulk", data={"action": "delete", "ids": ids})
    assert confirm.status_code == 200 and "Delete 2 contacts?" in html(confirm)
    assert row(app, Contact, seeded["ann"]) is not None
    done = owner_browser.post("/pipelines/contacts/bulk", data={"action": "delete", "confirmed": "1", "ids": ids,
                                                                "next": "https://evil.example/"})
    assert done.status_code == 303 and done.headers["Location"] == "/pipelines/contacts/"
    assert row(app, Contact, seeded["ann"]) is None and row(app, Contact, seeded["ben"]) is None


def test_ownership_and_permissions_on_screens(app, browser_as, acme, seeded):
    seller = make_user(app, acme, "seller@acme.example", ["contacts.view"])
    [mine] = add_contacts(app, acme, {"first_name": "Sellers", "last_name": "Own", "owner_id": seller})
    client = browser_as("seller@acme.example", "user-password")
    page = html(client.get("/pipelines/contacts/"))
    assert "Sellers Own" in page and "Ann Archer" not in page
    assert "Add contact" not in page and "Delete…" not in page
    assert client.get(f"/pipelines/contacts/{seeded['ann']}").status_code == 404
    assert client.get(f"/pipelines/contacts/{mine}").status_code == 200
    assert ">Edit<" not in html(client.get(f"/pipelines/contacts/{mine}"))
    assert client.get("/pipelines/contacts/new").status_code == 403
    assert client.post(f"/pipelines/contacts/{mine}/fields/first_name", data={"first_name": "X"}).status_code == 403
    assert client.post(f"/pipelines/contacts/{mine}/delete").status_code == 403
    # Bulk actions skip what the user cannot see.
    client.post("/pipelines/contacts/bulk", data={"action": "export", "ids": [str(seeded["ann"])]})
    make_user(app, acme, "nobody@acme.example", [])
    assert browser_as("nobody@acme.example", "user-password").get("/pipelines/contacts/").status_code == 403


def test_other_business_contact_is_404_on_every_screen(app, owner_browser, globex):
    [secret] = add_contacts(app, globex, {"first_name": "Globex", "last_name": "Secret"})
    for url in (f"/pipelines/contacts/{secret}", f"/pipelines/contacts/{secret}/edit",
                f"/pipelines/contacts/{secret}/fields/first_name"):
        assert owner_browser.get(url).status_code == 404
    assert owner_browser.post(f"/pipelines/contacts/{secret}/edit", data={"first_name": "X"}).status_code == 404
    assert owner_browser.post(f"/pipelines/contacts/{secret}/fields/first_name",
                              data={"first_name": "X"}).status_code == 404
    assert owner_browser.post(f"/pipelines/contacts/{secret}/delete").status_code == 404
    owner_browser.post("/pipelines/contacts/bulk", data={"action": "delete", "confirmed": "1", "ids": [str(secret)]})
    export = owner_browser.post("/pipelines/contacts/bulk", data={"action": "export", "ids": [str(secret)]})
    assert "Secret" not in html(export)
    assert row(app, Contact, secret).first_name == "Globex"


def test_custom_fields_settings(app, owner_browser, browser_as, acme):
    page = html(owner_browser.get("/pipelines/settings/custom-fields/"))
    assert "Add a field" in page and "Contact statuses" in page and "Lead" in page and "Customer" in page
    bad = owner_browser.post("/pipelines/settings/custom-fields/", data={"entity": "contact", "label": "",
                                                                         "type": "text"})
    assert bad.status_code == 422 and 'data-field-error="label"' in html(bad)
    ok = owner_browser.post("/pipelines/settings/custom-fields/", data={
        "entity": "contact", "label": "Garden size", "type": "choice", "options": "Small\nLarge", "required": "0"})
    assert ok.status_code == 303
    listed = html(owner_browser.get("/pipelines/settings/custom-fields/"))
    assert "garden_size" in listed and "Small, Large" in listed
    form = html(owner_browser.get("/pipelines/contacts/new"))
    assert 'name="cf.garden_size"' in form and '<option value="Large"' in form

    added = owner_browser.post("/pipelines/settings/custom-fields/statuses", data={"name": "Partner"})
    assert added.status_code == 303
    assert "Partner" in html(owner_browser.get("/pipelines/contacts/new"))
    dup = owner_browser.post("/pipelines/settings/custom-fields/statuses", data={"name": "partner"})
    assert dup.status_code == 422 and "The name has already been taken." in html(dup)

    make_user(app, acme, "seller@acme.example", ["contacts.view"])
    seller = browser_as("seller@acme.example", "user-password")
    assert seller.get("/pipelines/settings/custom-fields/").status_code == 403
    assert seller.post("/pipelines/settings/custom-fields/statuses", data={"name": "X"}).status_code == 403


def test_numbers_no_row_can_have_are_refused_not_500(owner_browser):
    big = "9" * 30
    created = owner_browser.post("/pipelines/contacts/new", data={"first_name": "Ann", "account_id": big})
    assert created.status_code == 422
    assert "The selected account id is invalid." in created.get_data(as_text=True)
    bulk = owner_browser.post("/pipelines/contacts/bulk", data={"ids": [big], "action": "delete"})
    assert bulk.status_code in (200, 302, 303)  # a confirmation page or back to the list; never a 500
