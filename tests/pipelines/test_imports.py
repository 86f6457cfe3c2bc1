"""CSV import and export of contacts: screens (upload, mapping, preview, progress) and the API."""
import csv
import io
import json
import re

import pytest
from sqlalchemy import func, select

from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.conftest import make_token, make_user

HEADER = "First name,Last name,E-mail,Mobile,Company notes\r\n"


def contacts_of(app, tenant) -> list[dict]:
    from app.pipelines.models import Contact

    with app.app_context(), tenant_scope(tenant.business_id):
        rows = db.session.scalars(select(Contact).order_by(Contact.email))
        return [{"first_name": c.first_name, "last_name": c.last_name, "email": c.email,
                 "mobile_phone": c.mobile_phone, "status": c.status, "notes": c.notes} for c in rows]


def upload(browser, text: str | bytes, kind: str = "contacts", filename: str = "people.csv"):
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return browser.post("/pipelines/import-export/imports",
                        data={"kind": kind, "file": (io.BytesIO(raw), filename)},
                        content_type="multipart/form-data")


def import_id_of(response) -> int:
    return int(re.search(r"/imports/(\d+)/mapping$", response.headers["Location"]).group(1))


def run_mapped(browser, import_id: int, mapping: dict[int, str], mode: str = "update"):
    form = {f"map-{index}": field for index, field in mapping.items()}
    return browser.post(f"/pipelines/import-export/imports/{import_id}/mapping",
                        data={**form, "mode": mode, "action": "import"})


GUESSED = {0: "first_name", 1: "last_name", 2: "email", 3: "mobile_phone"}


# --- the screens ------------------------------------------------------------------------

def test_page_offers_export_and_import(owner_browser):
    page = owner_browser.get("/pipelines/import-export/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/pipelines/import-export/export/contacts"' in html
    assert 'enctype="multipart/form-data"' in html and 'name="csrf_token"' in html


def test_upload_guesses_the_mapping_and_previews_the_first_rows(app, acme, owner_browser):
    rows = "".join(f"Ann{n},Lee,ann{n}@example.com,,note\r\n" for n in range(8))
    response = upload(owner_browser, HEADER + rows)
    assert response.status_code == 303
    page = owner_browser.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert "Import 8 contacts from “people.csv”" in html
    # Columns named like fields are chosen; "Company notes" is left alone.
    assert re.search(r'id="map-2".*?<option value="email" selected>', html, re.S)
    assert not re.search(r'id="map-4".*?selected>', html.split('id="map-4"')[1].split("</select>")[0], re.S)
    assert html.count("ann0@example.com") == 1 and "ann4@example.com" in html and "ann5@example.com" not in html
    assert contacts_of(app, acme) == []  # nothing saved before "Import"


def test_changing_the_mapping_refreshes_the_preview_fragment(owner_browser):
    import_id = import_id_of(upload(owner_browser, HEADER + "Ann,Lee,ann@example.com,,VIP\r\n"))
    response = owner_browser.post(f"/pipelines/import-export/imports/{import_id}/mapping",
                                  data={"map-0": "first_name", "map-4": "notes"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and 'data-testid="preview-table"' in html
    assert "<th>first_name</th><th>notes</th>" in html.replace("\n", "").replace("  ", "")
    assert "VIP" in html


def test_import_creates_rows_and_reports_bad_ones_with_their_row_number(app, acme, owner_browser):
    text = HEADER + ("Ann,Lee,ann@example.com,+1 650 253 0000,\r\n"
                     "Bob,,not-an-email,,\r\n"
                     ",,,,\r\n"  # blank lines are not rows
                     "Cy,Young,cy@example.com,,\r\n")
    import_id = import_id_of(upload(owner_browser, text))
    response = run_mapped(owner_browser, import_id, GUESSED)
    assert response.status_code == 303
    page = owner_browser.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'data-testid="created-count">2<', page)
    assert re.search(r'data-testid="error-count">1<', page)
    assert "Row 3" in page and "The email must be a valid email address." in page
    assert [c["email"] for c in contacts_of(app, acme)] == ["ann@example.com", "cy@example.com"]
    assert contacts_of(app, acme)[0]["mobile_phone"] == "+16502530000"
    report = owner_browser.get(f"/pipelines/import-export/imports/{import_id}/errors.csv")
    assert report.get_data().decode("utf-8-sig").splitlines() == [
        "row,field,message", "3,email,The email must be a valid email address."]


def test_matching_emails_update_or_skip_and_blank_cells_erase_nothing(app, acme, owner_browser, api):
    api.post("/api/v1/contacts", json={"first_name": "Ann", "last_name": "Old", "email": "ann@example.com",
                                       "mobile_phone": "+1 650 253 0001"})
    import_id = import_id_of(upload(owner_browser, HEADER + "Ann,New,ANN@example.com,,\r\n"))
    page = owner_browser.get(run_mapped(owner_browser, import_id, GUESSED, mode="skip").headers["Location"])
    assert re.search(r'data-testid="skipped-count">1<', page.get_data(as_text=True))
    assert contacts_of(app, acme)[0]["last_name"] == "Old"

    import_id = import_id_of(upload(owner_browser, HEADER + "Ann,New,ANN@example.com,,\r\n"))
    page = owner_browser.get(run_mapped(owner_browser, import_id, GUESSED).headers["Location"])
    assert re.search(r'data-testid="updated-count">1<', page.get_data(as_text=True))
    [ann] = contacts_of(app, acme)
    assert ann["last_name"] == "New" and ann["mobile_phone"] == "+16502530001"


def test_mapping_mistakes_are_422_next_to_the_mapping(app, acme, owner_browser):
    import_id = import_id_of(upload(owner_browser, HEADER + "Ann,Lee,ann@example.com,,\r\n"))
    response = run_mapped(owner_browser, import_id, {0: "first_name", 1: "first_name"})
    assert response.status_code == 422
    assert "Each field can take one column only: first_name." in response.get_data(as_text=True)
    response = run_mapped(owner_browser, import_id, {})
    assert "Choose at least one column to import." in response.get_data(as_text=True)
    assert contacts_of(app, acme) == []


@pytest.mark.parametrize("body, message", [
    (b"", "Choose a CSV file to import."),
    (b"email\r\n", "The file has a header row but no data rows."),
    (b"email,email\r\na@b.co,c@d.co\r\n", "Two columns of the file have the same name"),
])
def test_unusable_files_are_refused_with_a_message(owner_browser, body, message):
    response = upload(owner_browser, body)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_semicolons_and_windows_1252_are_read(app, acme, owner_browser):
    text = "first_name;last_name;email\r\nRené;Müller;rene@example.com\r\n".encode("cp1252")
    import_id = import_id_of(upload(owner_browser, text))
    run_mapped(owner_browser, import_id, {0: "first_name", 1: "last_name", 2: "email"})
    assert contacts_of(app, acme)[0]["first_name"] == "René"
    assert contacts_of(app, acme)[0]["last_name"] == "Müller"


def test_export_then_import_into_another_business_gives_the_same_rows(app, acme, globex, api, owner_browser,
                                                                      browser_as):
    for body in ({"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com", "notes": "Line one\nTwo",
                  "mobile_phone": "+1 650 253 0000", "status": "Customer"},
                 {"first_name": "=HYPERLINK(\"x\")", "email": "formula@example.com", "notes": "@risky, \"quoted\""},
                 {"first_name": "Émile", "last_name": "Zola", "email": "emile@example.com"}):
        assert api.post("/api/v1/contacts", json=body).status_code == 201
    exported = owner_browser.get("/pipelines/import-export/export/contacts")
    assert exported.status_code == 200
    raw = exported.get_data()
    assert raw.startswith("\ufeff".encode())
    assert "'=HYPERLINK" in raw.decode("utf-8-sig")  # the spreadsheet sees text, not a formula

    other = browser_as("owner@globex.example", "owner-password")
    import_id = import_id_of(upload(other, raw, filename="contacts.csv"))
    headers = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    mapping_page = other.get(f"/pipelines/import-export/imports/{import_id}/mapping").get_data(as_text=True)
    for column in ("first_name", "email", "notes", "status", "mobile_phone"):
        index = headers.index(column)
        assert re.search(rf'id="map-{index}".*?<option value="{column}" selected>', mapping_page, re.S)
    guessed = {i: h for i, h in enumerate(headers)
               if h in ("first_name", "last_name", "email", "notes", "status", "mobile_phone")}
    run_mapped(other, import_id, guessed)
    assert contacts_of(app, globex) == contacts_of(app, acme)
    assert contacts_of(app, globex)[2]["first_name"] == "=HYPERLINK(\"x\")"


def test_needs_the_import_permission_and_keeps_businesses_apart(app, acme, globex, owner_browser, browser_as):
    make_user(app, acme, "viewer@acme.example", permissions=["contacts.view", "crm.export"])
    viewer = browser_as("viewer@acme.example", "user-password")
    assert viewer.get("/pipelines/import-export/").status_code == 200
    assert upload(viewer, HEADER + "Ann,Lee,ann@example.com,,\r\n").status_code == 403
    make_user(app, acme, "nobody@acme.example", permissions=["contacts.view"])
    assert browser_as("nobody@acme.example", "user-password").get("/pipelines/import-export/").status_code == 403

    import_id = import_id_of(upload(owner_browser, HEADER + "Ann,Lee,ann@example.com,,\r\n"))
    other = browser_as("owner@globex.example", "owner-password")
    assert other.get(f"/pipelines/import-export/imports/{import_id}/mapping").status_code == 404
    assert run_mapped(other, import_id, GUESSED).status_code == 404
    assert other.get(f"/pipelines/import-export/imports/{import_id}").status_code == 404


def test_discarding_an_upload(app, acme, owner_browser):
    from app.pipelines.models import ImportJob

    import_id = import_id_of(upload(owner_browser, HEADER + "Ann,Lee,ann@example.com,,\r\n"))
    response = owner_browser.post(f"/pipelines/import-export/imports/{import_id}/cancel")
    assert response.status_code == 303
    with app.app_context(), tenant_scope(acme.business_id):
        assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_file_content_is_escaped_on_every_page(owner_browser):
    response = upload(owner_browser, "<b>first_name</b>,email\r\n<script>x()</script>,bad\r\n")
    import_id = import_id_of(response)
    html = owner_browser.get(f"/pipelines/import-export/imports/{import_id}/mapping").get_data(as_text=True)
    assert "<b>first_name</b>" not in html and "&lt;b&gt;first_name&lt;/b&gt;" in html


# --- the API ----------------------------------------------------------------------------

def api_upload(app, token, text, **form):
    return app.test_client().post(
        "/api/v1/imports", headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data",
        data={"kind": "contacts", "file": (io.BytesIO(text.encode()), "people.csv"), **form})


def test_api_import_runs_and_reports(app, acme):
    token = make_token(app, acme.owner_id)
    text = "email,first_name\r\nann@example.com,Ann\r\nbad,Bob\r\n"
    response = api_upload(app, token, text)
    assert response.status_code == 202
    data = response.get_json()["data"]
    assert response.headers["Location"] == f"/api/v1/imports/{data['id']}"
    status = app.test_client().get(response.headers["Location"], headers={"Authorization": f"Bearer {token}"})
    body = status.get_json()["data"]
    assert (body["status"], body["total_rows"], body["created_count"], body["error_count"]) == ("done", 2, 1, 1)
    assert body["errors"] == [{"row": 3, "errors": {"email": ["The email must be a valid email address."]}}]
    assert body["mapping"] == {"email": "email", "first_name": "first_name"}
    assert [c["email"] for c in contacts_of(app, acme)] == ["ann@example.com"]


def test_api_import_with_an_explicit_mapping_and_skip(app, acme, api):
    api.post("/api/v1/contacts", json={"first_name": "Ann", "email": "ann@example.com"})
    token = make_token(app, acme.owner_id)
    response = api_upload(app, token, "Mail,Name\r\nann@example.com,Changed\r\nnew@example.com,New\r\n",
                          mapping=json.dumps({"Mail": "email", "Name": "first_name"}), mode="skip")
    assert response.get_json()["data"]["status"] == "queued"  # the worker takes it after the commit
    status = app.test_client().get(response.headers["Location"], headers={"Authorization": f"Bearer {token}"})
    body = status.get_json()["data"]
    assert (body["created_count"], body["skipped_count"]) == (1, 1)
    assert {c["first_name"] for c in contacts_of(app, acme)} == {"Ann", "New"}


@pytest.mark.parametrize("form, errors", [
    ({"kind": "planets"}, {"kind": ["The kind must be one of: contacts, leads, deals."]}),
    ({"mapping": "{nope"}, {"mapping": ["The mapping must be a JSON object."]}),
    ({"mapping": json.dumps({"email": "shoe_size"})}, {"mapping": ["Unknown field: shoe_size."]}),
    ({"mode": "merge"}, {"mode": ["The selected mode is invalid."]}),
])
def test_api_import_422s(app, acme, form, errors):
    response = api_upload(app, make_token(app, acme.owner_id), "email\r\nann@example.com\r\n", **form)
    assert response.status_code == 422
    assert response.get_json()["errors"] == errors
    assert contacts_of(app, acme) == []


def test_api_import_permissions_and_tenancy(app, acme, globex):
    viewer = make_user(app, acme, "viewer@acme.example", permissions=["contacts.view", "contacts.create"])
    assert api_upload(app, make_token(app, viewer), "email\r\na@example.com\r\n").status_code == 403
    narrowed = make_token(app, acme.owner_id, abilities=["contacts.create"])
    assert api_upload(app, narrowed, "email\r\na@example.com\r\n").status_code == 403
    started = api_upload(app, make_token(app, acme.owner_id), "email\r\na@example.com\r\n").get_json()["data"]
    other = make_token(app, globex.owner_id)
    response = app.test_client().get(f"/api/v1/imports/{started['id']}", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 404 and response.get_json() == {"message": "Not found"}


# --- deals ------------------------------------------------------------------------------

def deals_of(app, tenant) -> list[tuple]:
    from app.pipelines.models import Deal, Stage

    with app.app_context(), tenant_scope(tenant.business_id):
        rows = db.session.execute(select(Deal.title, Deal.value, Stage.name, Deal.contact_id, Deal.status)
                                  .join(Stage, Stage.id == Deal.stage_id).order_by(Deal.title))
        return [(title, f"{value:.2f}", stage, contact, status) for title, value, stage, contact, status in rows]


def test_deals_from_another_system_name_their_stage_and_contact(app, acme, api, owner_browser):
    contact = api.post("/api/v1/contacts", json={"first_name": "Ann", "email": "ann@example.com"}).get_json()
    text = ("Deal name,Amount,Stage,Email\r\n"
            "Hedge trimming,450.50,Proposal,ann@example.com\r\n"
            "Pond,1200,Nowhere,\r\n"
            "Lawn,80,,nobody@example.com\r\n")
    import_id = import_id_of(upload(owner_browser, text, kind="deals"))
    mapping_page = owner_browser.get(f"/pipelines/import-export/imports/{import_id}/mapping").get_data(as_text=True)
    assert re.search(r'id="map-2".*?<option value="stage" selected>', mapping_page, re.S)
    page = owner_browser.get(run_mapped(owner_browser, import_id, {0: "title", 1: "value", 2: "stage",
                                                                   3: "contact_email"}).headers["Location"])
    html = page.get_data(as_text=True)
    assert re.search(r'data-testid="created-count">1<', html) and re.search(r'data-testid="error-count">2<', html)
    assert "There is no stage named Nowhere in that pipeline." in html
    assert "There is no contact with the email nobody@example.com." in html
    assert deals_of(app, acme) == [("Hedge trimming", "450.50", "Proposal", contact["data"]["id"], "open")]


def test_deals_export_imports_back_as_the_same_deals(app, acme, api, owner_browser):
    for body in ({"title": "Patio", "value": "900.00"}, {"title": "Fence", "value": "350.25"}):
        assert api.post("/api/v1/deals", json=body).status_code == 201
    before = deals_of(app, acme)
    exported = owner_browser.get("/pipelines/import-export/export/deals").get_data()
    header = next(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert header[:6] == ["id", "title", "value", "currency", "pipeline", "stage"]
    import_id = import_id_of(upload(owner_browser, exported, kind="deals", filename="deals.csv"))
    mapping = {i: h for i, h in enumerate(header) if h in ("id", "title", "value", "currency", "stage_id")}
    page = owner_browser.get(run_mapped(owner_browser, import_id, mapping).headers["Location"])
    assert re.search(r'data-testid="updated-count">2<', page.get_data(as_text=True))
    assert deals_of(app, acme) == before


def deal_import(app, tenant, text: str) -> dict:
    token = make_token(app, tenant.owner_id)
    response = app.test_client().post(
        "/api/v1/imports", headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data",
        data={"kind": "deals", "file": (io.BytesIO(text.encode()), "deals.csv")})
    assert response.status_code == 202, response.get_json()
    status = app.test_client().get(response.headers["Location"], headers={"Authorization": f"Bearer {token}"})
    return status.get_json()["data"]


def test_deal_amounts_it_cannot_read_are_row_errors_not_guesses(app, acme):
    """1e9 was imported as 1000000000.00 (a spreadsheet's exponent taken as an amount)."""
    text = "title,value\r\nA,1e9\r\nB,1.5k\r\nC,0x10\r\nD,12abc\r\nE,\"1.234,56\"\r\nF,-5\r\nG,\"1,234.56\"\r\nH,99.50\r\n"
    body = deal_import(app, acme, text)
    unreadable = ["The value must be an amount like 1,234.56."]
    assert (body["created_count"], body["error_count"]) == (2, 6)
    assert body["errors"] == [{"row": 2, "errors": {"value": unreadable}}, {"row": 3, "errors": {"value": unreadable}},
                              {"row": 4, "errors": {"value": unreadable}}, {"row": 5, "errors": {"value": unreadable}},
                              {"row": 6, "errors": {"value": unreadable}},
                              {"row": 7, "errors": {"value": ["The value must be at least 0."]}}]
    assert [(title, value) for title, value, *_ in deals_of(app, acme)] == [("G", "1234.56"), ("H", "99.50")]


def test_deal_amounts_in_a_decimal_comma_business(app, acme):
    from tests.web.sales_helpers import use_number_format

    use_number_format(app, acme, ",")
    body = deal_import(app, acme, "title;value\r\nA;1.234,56\r\nB;1e9\r\nC;1,234.56\r\nD;350.25\r\n")
    assert body["errors"] == [{"row": 3, "errors": {"value": ["The value must be an amount like 1.234,56."]}},
                              {"row": 4, "errors": {"value": ["The value must be an amount like 1.234,56."]}}]
    assert [(title, value) for title, value, *_ in deals_of(app, acme)] == [("A", "1234.56"), ("D", "350.25")]
