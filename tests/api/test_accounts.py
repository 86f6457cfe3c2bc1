"""/api/v1/accounts: CRUD, validation, ownership, custom fields, filters, CSV, tenancy."""
import csv
import io

import pytest

from app.pipelines.models import Account, Contact
from tests.conftest import make_user
from tests.pipelines.factories import add_accounts, add_contacts, add_custom_fields, events, row

ACCOUNTS = "/api/v1/accounts"
NOT_FOUND = {"message": "Not found"}


def invalid(field: str, message: str) -> dict:
    return {"message": message, "errors": {field: [message]}}


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [a["name"] for a in response.json["data"]]


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def size_field(app, acme):
    return add_custom_fields(app, acme, {"entity": "account", "key": "employees", "label": "Employees",
                                         "type": "number"},
                             {"entity": "account", "key": "segment", "label": "Segment", "type": "choice",
                              "options": ["SMB", "Enterprise"]})


def test_create_get_patch_put_delete(app, api, acme, size_field):
    response = api.post(ACCOUNTS, json={
        "name": " Initech ", "domain": "https://www.Initech.com/about", "industry": "Software",
        "phone": "+1 650 253 0000", "website": "initech.com", "city": "Austin",
        "custom_fields": {"employees": "250", "segment": "SMB"}})
    assert response.status_code == 201, response.json
    data = response.json["data"]
    account_id = data["id"]
    assert response.headers["Location"].endswith(f"/api/v1/accounts/{account_id}")
    assert (data["name"], data["domain"], data["phone"], data["website"]) == (
        "Initech", "initech.com", "+16502530000", "https://initech.com")
    assert data["custom_fields"] == {"employees": 250, "segment": "SMB"}
    assert data["owner"] == {"id": acme.owner_id, "name": "Owner Acme"}
    assert events(app, "account.created")[0]["id"] == account_id

    url = f"{ACCOUNTS}/{account_id}"
    assert api.get(url).json["data"] == data
    patched = api.patch(url, json={"industry": "Consulting"}, headers={"If-Match": '"1"'})
    assert patched.status_code == 200 and patched.json["data"]["city"] == "Austin"
    assert api.patch(url, json={"industry": "X"}, headers={"If-Match": '"1"'}).status_code == 412
    replaced = api.put(url, json={"name": "Initrode"})
    assert replaced.status_code == 200
    assert (replaced.json["data"]["city"], replaced.json["data"]["custom_fields"]) == (None, {})
    assert replaced.json["data"]["owner_id"] == acme.owner_id

    [contact_id] = add_contacts(app, acme, {"first_name": "Peter", "account_id": account_id})
    assert api.delete(url).status_code == 204
    assert row(app, Account, account_id) is None
    assert row(app, Contact, contact_id).account_id is None
    assert events(app, "account.deleted") == [{"id": account_id, "name": "Initrode"}]


@pytest.mark.parametrize("body, field, message", [
    ({}, "name", "The name field is required."),
    ({"name": "  "}, "name", "The name field is required."),
    ({"name": "A", "domain": "not a domain"}, "domain", "The domain must be a domain name, such as acme.com."),
    ({"name": "A", "owner_id": 424242}, "owner_id", "The selected owner id is invalid."),
    ({"name": "A", "custom_fields": {"employees": "lots"}}, "custom_fields.employees",
     "The Employees must be a number."),
    ({"name": "A", "custom_fields": {"segment": "Huge"}}, "custom_fields.segment",
     "The Segment must be one of: SMB, Enterprise."),
    ({"name": "A", "custom_fields": {"tier": "Gold"}}, "custom_fields.tier", "There is no account field named tier."),
])
def test_invalid_account_is_422(api, size_field, body, field, message):
    response = api.post(ACCOUNTS, json=body)
    assert response.status_code == 422
    assert response.json == invalid(field, message)
    assert api.get(ACCOUNTS).json["meta"]["total"] == 0


def test_permissions_and_ownership(app, api_as, acme):
    seller = make_user(app, acme, "seller@acme.example", ["accounts.view", "accounts.create"])
    manager = make_user(app, acme, "manager@acme.example", ["accounts.view", "accounts.view_all"])
    mine, theirs = add_accounts(app, acme, {"name": "Mine", "owner_id": seller}, {"name": "Theirs"})
    client = api_as(seller)
    assert names(client.get(ACCOUNTS)) == ["Mine"]
    assert client.get(f"{ACCOUNTS}/{theirs}").json == NOT_FOUND
    assert client.patch(f"{ACCOUNTS}/{mine}", json={"name": "X"}).status_code == 403
    assert client.delete(f"{ACCOUNTS}/{mine}").status_code == 403
    assert client.post(ACCOUNTS, json={"name": "New"}).json["data"]["owner_id"] == seller
    assert names(api_as(manager).get(ACCOUNTS)) == ["Mine", "New", "Theirs"]
    assert api_as(manager).post(ACCOUNTS, json={"name": "No"}).status_code == 403
    assert names(api_as(manager).get(f"{ACCOUNTS}?owner={seller}")) == ["Mine", "New"]


def test_filters_search_and_csv(app, api, acme, size_field):
    add_accounts(app, acme,
                 {"name": "Initech", "industry": "Software", "domain": "initech.com",
                  "custom_fields": {"employees": 250, "segment": "SMB"}},
                 {"name": "@Globalex", "industry": "Retail", "phone": "+16502530000",
                  "custom_fields": {"segment": "Enterprise"}})
    assert names(api.get(f"{ACCOUNTS}?industry=Software")) == ["Initech"]
    assert names(api.get(f"{ACCOUNTS}?q=initech.c")) == ["Initech"]
    assert names(api.get(f"{ACCOUNTS}?cf[segment]=Enterprise")) == ["@Globalex"]
    assert names(api.get(f"{ACCOUNTS}?owned=1&sort=-name")) == ["Initech", "@Globalex"]
    rows = read_csv(api.get(f"{ACCOUNTS}?format=csv&sort=name"))
    assert list(rows[0])[-2:] == ["cf_employees", "cf_segment"]
    assert [(r["name"], r["phone"], r["cf_employees"], r["cf_segment"]) for r in rows] == [
        ("'@Globalex", "'+16502530000", "", "Enterprise"), ("Initech", "", "250", "SMB")]


def test_another_business_account_is_404_on_every_route(app, api, globex):
    [secret] = add_accounts(app, globex, {"name": "Globex"})
    url = f"{ACCOUNTS}/{secret}"
    assert api.get(url).json == NOT_FOUND
    assert api.get(f"{url}?format=csv").status_code == 404
    assert api.put(url, json={"name": "X"}).status_code == 404
    assert api.patch(url, json={"name": "X"}).status_code == 404
    assert api.delete(url).status_code == 404
    assert api.get(ACCOUNTS).json["data"] == []
    assert row(app, Account, secret).name == "Globex"
