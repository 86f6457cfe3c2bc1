"""/api/v1/leads: CRUD, name split, validation, ownership, permissions, tenancy, CSV, convert."""
import csv
import io

import pytest

from app.pipelines.models import Account, Contact, Deal, Lead
from tests.conftest import make_user
from tests.leads_support import add_leads, add_pipeline, add_row, events, rows

LEADS = "/api/v1/leads"
NOT_FOUND = {"message": "Not found"}
UNAUTHORIZED = {"message": "Unauthorized"}


def invalid(field: str, message: str) -> dict:
    return {"message": message, "errors": {field: [message]}}


def test_create_lead_with_name_split_and_phone_normalised(app, api, acme):
    response = api.post(LEADS, json={"name": "Jane van Doe", "email": "Jane@Example.com", "phone": "+44 20 7946 0958",
                                     "company_name": "Acme Inc", "source": "website-form", "utm_source": "google",
                                     "utm_campaign": "spring"})

    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert response.headers["Location"].endswith(f"/api/v1/leads/{data['id']}")
    assert (data["first_name"], data["last_name"], data["name"]) == ("Jane", "van Doe", "Jane van Doe")
    assert data["email"] == "jane@example.com"
    assert data["phone"] == "+442079460958"
    assert data["status"] == "new"
    assert data["owner_id"] == acme.owner_id
    assert data["owner"] == {"id": acme.owner_id, "name": "Owner Acme"}
    assert data["utm_source"] == "google" and data["utm_campaign"] == "spring"
    assert data["created_at"].endswith("Z")
    assert [e.payload["id"] for e in events(app, "lead.created")] == [data["id"]]


def test_create_needs_a_name_or_email(api):
    response = api.post(LEADS, json={"company_name": "Nobody Ltd"})
    assert response.status_code == 422
    assert response.json == invalid("name", "The name field is required when email is not present.")


def test_create_validation_messages(api):
    response = api.post(LEADS, json={"email": "not-an-email", "status": "converted", "owner_id": 999999})
    assert response.status_code == 422
    assert response.json["errors"] == {
        "email": ["The email must be a valid email address."],
        "status": ["A lead becomes converted by converting it, not by setting its status."],
        "owner_id": ["The selected owner id is invalid."],
    }
    assert rows(app=api.client.application, model=Lead) == []


def test_unknown_field_is_422(api):
    response = api.post(LEADS, json={"email": "a@example.com", "colour": "red"})
    assert response.status_code == 422
    assert response.json == invalid("colour", "The colour field is not allowed.")


def test_get_patch_put_delete(app, api, acme):
    (lead_id,) = add_leads(app, acme, {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com",
                                       "company_name": "Lee & Co"})
    got = api.get(f"{LEADS}/{lead_id}")
    assert got.status_code == 200 and got.json["data"]["name"] == "Ann Lee"
    assert got.headers["ETag"] == '"1"'

    patched = api.patch(f"{LEADS}/{lead_id}", json={"status": "qualified"}, headers={"If-Match": '"1"'})
    assert patched.status_code == 200, patched.json
    assert patched.json["data"]["status"] == "qualified"
    assert patched.json["data"]["company_name"] == "Lee & Co"

    stale = api.patch(f"{LEADS}/{lead_id}", json={"status": "contacted"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412

    replaced = api.put(f"{LEADS}/{lead_id}", json={"email": "ann@example.com"})
    assert replaced.status_code == 200
    assert replaced.json["data"]["company_name"] is None and replaced.json["data"]["first_name"] is None
    assert replaced.json["data"]["status"] == "qualified"

    assert api.delete(f"{LEADS}/{lead_id}").status_code == 204
    assert api.get(f"{LEADS}/{lead_id}").status_code == 404


def test_status_cannot_be_set_to_converted(app, api, acme):
    (lead_id,) = add_leads(app, acme, {"email": "x@example.com"})
    response = api.patch(f"{LEADS}/{lead_id}", json={"status": "converted"})
    assert response.status_code == 422
    assert response.json == invalid("status", "A lead becomes converted by converting it, not by setting its status.")


def test_list_filters_search_sort_and_csv(app, api, acme):
    other = make_user(app, acme, "sam@acme.example", permissions=["leads.view"])
    add_leads(app, acme,
              {"first_name": "Ann", "email": "ann@example.com", "status": "new", "source": "web"},
              {"first_name": "Bob", "email": "bob@example.com", "status": "qualified", "source": "referral"},
              {"first_name": "Cat", "email": "cat@example.com", "status": "new", "source": "web", "owner_id": other,
               "phone": "+441174960123"})

    def names(url):
        response = api.get(url)
        assert response.status_code == 200, response.json
        return [row["first_name"] for row in response.json["data"]]

    assert names(f"{LEADS}?sort=first_name") == ["Ann", "Bob", "Cat"]
    assert names(f"{LEADS}?status=new&sort=-first_name") == ["Cat", "Ann"]
    assert names(f"{LEADS}?filter[source]=referral") == ["Bob"]
    assert names(f"{LEADS}?owner_id={other}") == ["Cat"]
    assert names(f"{LEADS}?q=bob") == ["Bob"]
    listed = api.get(f"{LEADS}?per_page=2&sort=first_name")
    assert listed.json["meta"]["total"] == 3 and listed.json["meta"]["last_page"] == 2
    bad = api.get(f"{LEADS}?status=lost")
    assert bad.status_code == 422
    assert bad.json["errors"] == {"status": ["The status filter must be one of: new, contacted, qualified, "
                                             "unqualified, converted."]}

    exported = api.get(f"{LEADS}?format=csv&sort=first_name")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    text = exported.get_data(as_text=True)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    header = table[0]
    assert header[:3] == ["id", "name", "first_name"] and "utm_campaign" in header and "owner_id" in header
    assert [row[header.index("first_name")] for row in table[1:]] == ["Ann", "Bob", "Cat"]
    assert table[3][header.index("phone")] == "'+441174960123"  # formula-safe


def test_ownership_without_view_all(app, api_as, acme):
    seller = make_user(app, acme, "seller@acme.example", permissions=["leads.view", "leads.create", "leads.update",
                                                                       "leads.delete"])
    mine, theirs = add_leads(app, acme, {"email": "mine@example.com", "owner_id": seller},
                             {"email": "theirs@example.com"})
    client = api_as(seller)
    assert [r["email"] for r in client.get(LEADS).json["data"]] == ["mine@example.com"]
    for call in (lambda: client.get(f"{LEADS}/{theirs}"), lambda: client.patch(f"{LEADS}/{theirs}", json={}),
                 lambda: client.delete(f"{LEADS}/{theirs}"),
                 lambda: client.post(f"{LEADS}/{theirs}/convert", json={})):
        response = call()
        assert response.status_code in (403, 404)
    assert client.get(f"{LEADS}/{theirs}").json == NOT_FOUND
    assert client.patch(f"{LEADS}/{mine}", json={"status": "contacted"}).status_code == 200
    created = client.post(LEADS, json={"email": "new@example.com"})
    assert created.json["data"]["owner_id"] == seller


def test_permissions(app, api_as, acme):
    (lead_id,) = add_leads(app, acme, {"email": "a@example.com"})
    viewer = api_as(make_user(app, acme, "viewer@acme.example", permissions=["leads.view_all"]))
    assert viewer.get(LEADS).status_code == 200
    assert viewer.post(LEADS, json={"email": "b@example.com"}).json == UNAUTHORIZED
    assert viewer.patch(f"{LEADS}/{lead_id}", json={}).status_code == 403
    assert viewer.delete(f"{LEADS}/{lead_id}").status_code == 403
    assert viewer.post(f"{LEADS}/{lead_id}/convert", json={}).status_code == 403
    nobody = api_as(make_user(app, acme, "nobody@acme.example", permissions=[]))
    assert nobody.get(LEADS).status_code == 403
    narrow = api_as(acme.owner_id, abilities=["leads.view"])
    assert narrow.post(LEADS, json={"email": "c@example.com"}).status_code == 403


@pytest.mark.parametrize("method, suffix, body", [
    ("get", "", None), ("patch", "", {"status": "contacted"}), ("put", "", {"email": "z@example.com"}),
    ("delete", "", None), ("post", "/convert", {}),
])
def test_other_business_is_404(app, api, globex, method, suffix, body):
    (lead_id,) = add_leads(app, globex, {"email": "g@example.com", "owner_id": globex.owner_id})
    kwargs = {"json": body} if body is not None else {}
    response = getattr(api, method)(f"{LEADS}/{lead_id}{suffix}", **kwargs)
    assert response.status_code == 404
    assert response.json == NOT_FOUND
    assert rows(app, Lead)[0].status == "new"


def test_convert_through_the_api(app, api, acme):
    pipeline = add_pipeline(app, acme)
    (lead_id,) = add_leads(app, acme, {"first_name": "Jo", "last_name": "Ray", "email": "jo@example.com",
                                       "company_name": "Ray Ltd", "phone": "+441174960123"})
    response = api.post(f"{LEADS}/{lead_id}/convert", json={
        "create_deal": True, "deal_title": "Ray Ltd garden", "deal_value": "1250.50",
        "pipeline_id": pipeline["id"], "stage_id": pipeline["stages"]["Proposal"]})
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["status"] == "converted" and data["converted_by_id"] == acme.owner_id
    assert data["converted_at"].endswith("Z")
    (contact,) = rows(app, Contact)
    (account,) = rows(app, Account)
    (deal,) = rows(app, Deal)
    assert (data["contact_id"], data["account_id"], data["deal_id"]) == (contact.id, account.id, deal.id)
    assert (contact.email, contact.account_id, account.name) == ("jo@example.com", account.id, "Ray Ltd")
    assert (deal.title, str(deal.value), deal.stage_id) == ("Ray Ltd garden", "1250.50",
                                                            pipeline["stages"]["Proposal"])

    again = api.post(f"{LEADS}/{lead_id}/convert", json={})
    assert again.status_code == 409
    assert again.json == {"message": "This lead has already been converted."}


def test_convert_validation(app, api, acme, globex):
    pipeline = add_pipeline(app, acme)
    other = add_pipeline(app, acme, name="Other", is_default=False)
    foreign_contact = add_row(app, globex, Contact, first_name="G", email="g@example.com", owner_id=globex.owner_id)
    (lead_id,) = add_leads(app, acme, {"email": "v@example.com"})
    response = api.post(f"{LEADS}/{lead_id}/convert", json={
        "create_deal": True, "pipeline_id": pipeline["id"], "stage_id": other["stages"]["New"],
        "contact_id": foreign_contact})
    assert response.status_code == 422
    assert response.json["errors"] == {"contact_id": ["The selected contact id is invalid."],
                                       "stage_id": ["The selected stage does not belong to the pipeline."]}
    assert rows(app, Lead)[0].status == "new" and rows(app, Deal) == []
    negative = api.post(f"{LEADS}/{lead_id}/convert", json={"create_deal": True, "deal_value": "-5"})
    assert negative.json == invalid("deal_value", "The deal value must be at least 0.")


@pytest.mark.parametrize("value", ["1e9", "1.5k", "0x10", "12abc"])
def test_convert_refuses_a_deal_value_it_cannot_read(app, api, acme, value):
    add_pipeline(app, acme)
    (lead_id,) = add_leads(app, acme, {"email": "v@example.com"})
    response = api.post(f"{LEADS}/{lead_id}/convert", json={"create_deal": True, "deal_value": value})
    assert response.status_code == 422
    assert response.json == invalid("deal_value", "The deal value must be an amount like 1,234.56.")
    assert rows(app, Lead)[0].status == "new" and rows(app, Deal) == []


def test_convert_reads_the_deal_value_in_the_business_number_format(app, api, acme):
    from tests.web.sales_helpers import use_number_format

    add_pipeline(app, acme)
    use_number_format(app, acme, ",")
    (lead_id,) = add_leads(app, acme, {"email": "v@example.com"})
    response = api.post(f"{LEADS}/{lead_id}/convert", json={"create_deal": True, "deal_value": "1.234,56"})
    assert response.status_code == 200, response.json
    assert [str(d.value) for d in rows(app, Deal)] == ["1234.56"]


def test_ids_too_big_for_any_row_are_422_not_500(app, api, acme):
    (lead_id,) = add_leads(app, acme, {"email": "a@example.com"})
    big = 2**70
    assert api.patch(f"{LEADS}/{lead_id}", json={"owner_id": big}).json == invalid(
        "owner_id", "The selected owner id is invalid.")
    converted = api.post(f"{LEADS}/{lead_id}/convert", json={"contact_id": big, "create_deal": True,
                                                               "pipeline_id": big})
    assert converted.status_code == 422 and set(converted.json["errors"]) == {"contact_id", "pipeline_id"}
    assert api.get(f"{LEADS}?owner_id={big}").json == invalid("owner_id", "The owner_id filter must be a whole number.")
