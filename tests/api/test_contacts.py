"""/api/v1/contacts: CRUD, ownership, selected contacts, upsert by e-mail, statuses, tags,
custom fields, filters, CSV, concurrency and idempotency, tenancy."""
import csv
import io

import pytest

from app.pipelines.models import Contact, Deal
from tests.conftest import make_user
from tests.pipelines.factories import (
    add_accounts,
    add_contacts,
    add_custom_fields,
    add_deal,
    events,
    limit_to_contacts,
    row,
)

CONTACTS = "/api/v1/contacts"
NOT_FOUND = {"message": "Not found"}
UNAUTHORIZED = {"message": "Unauthorized"}


def invalid(field: str, message: str) -> dict:
    return {"message": message, "errors": {field: [message]}}


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [c["name"] for c in response.json["data"]]


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def fields(app, acme):
    return add_custom_fields(
        app, acme,
        {"key": "tier", "label": "Tier", "type": "choice", "options": ["Gold", "Silver"], "position": 1},
        {"key": "seats", "label": "Seats", "type": "number", "position": 2},
        {"key": "vip", "label": "VIP", "type": "checkbox", "position": 3},
        {"key": "birthday", "label": "Birthday", "type": "date", "position": 4},
    )


@pytest.fixture
def staff(app, acme):
    """Two users of Acme: one sees only their own contacts, one sees every contact."""
    own = make_user(app, acme, "own@acme.example", ["contacts.view", "contacts.create", "contacts.update",
                                                    "contacts.delete", "accounts.view", "crm.export"], first_name="Olive")
    every = make_user(app, acme, "all@acme.example", ["contacts.view", "contacts.view_all"], first_name="Vera")
    return own, every


# --- create, read, update, delete ----------------------------------------------------

def test_create_contact_with_everything(app, api, acme, fields):
    [account_id] = add_accounts(app, acme, {"name": "Initech"})
    body = {
        "prefix": "Ms", "first_name": " Jane ", "last_name": "Doe", "suffix": "MSc", "email": "Jane@Example.COM",
        "home_phone": "+44 117 496 0123", "work_phone": "(650) 253-0000", "mobile_phone": "0117 496 0000",
        "addr1": "1 Sample Road", "city": "Bristol", "postcode": "BS1 4RN", "country": "UK",
        "secaddr_city": "Bath", "status": "customer", "source": "referral", "notes": "Met at the fair",
        "do_not_contact": True, "tags": ["VIP", "newsletter", "vip"], "account_id": account_id,
        "custom_fields": {"tier": "Gold", "seats": "12", "vip": "yes", "birthday": "1990-02-03"},
    }
    response = api.post(CONTACTS, json=body)

    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert response.headers["Location"].endswith(f"/api/v1/contacts/{data['id']}")
    assert response.headers["ETag"] == '"1"'
    assert data["name"] == "Jane Doe" and data["first_name"] == "Jane"
    assert data["email"] == "Jane@example.com"
    # A valid international number becomes E.164; a US one too (the business is in USD);
    # a local number of another country stays as typed.
    assert data["home_phone"] == "+441174960123"
    assert data["work_phone"] == "+16502530000"
    assert data["mobile_phone"] == "0117 496 0000"
    assert data["status"] == "Customer"  # the business's spelling
    assert data["tags"] == ["newsletter", "VIP"]
    assert data["account"] == {"id": account_id, "name": "Initech"} and data["account_id"] == account_id
    assert data["owner_id"] == acme.owner_id and data["owner"] == {"id": acme.owner_id, "name": "Owner Acme"}
    assert data["custom_fields"] == {"tier": "Gold", "seats": 12, "vip": True, "birthday": "1990-02-03"}
    assert data["do_not_contact"] is True and data["secaddr_city"] == "Bath" and data["addr2"] is None
    assert data["created_at"].endswith("Z")
    stored = row(app, Contact, data["id"])
    assert stored.business_id == acme.business_id and stored.status == "Customer"
    assert events(app, "contact.created") == [{"id": data["id"], "name": "Jane Doe", "email": "Jane@example.com",
                                               "status": "Customer", "owner_id": acme.owner_id}]


def test_create_with_an_email_only_gets_the_first_status(api):
    response = api.post(CONTACTS, json={"email": "solo@example.com"})
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert (data["status"], data["name"], data["tags"], data["custom_fields"]) == ("Lead", "solo@example.com", [], {})


def test_get_patch_put_delete(app, api, acme):
    [contact_id] = add_contacts(app, acme, {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com",
                                            "city": "Leeds", "tags": ["old"]})
    url = f"{CONTACTS}/{contact_id}"
    got = api.get(url)
    assert got.status_code == 200 and got.json["data"]["tags"] == ["old"] and got.headers["ETag"] == '"1"'

    patched = api.patch(url, json={"last_name": "Lee-Smith", "tags": ["new", "Hot"]})
    assert patched.status_code == 200, patched.json
    data = patched.json["data"]
    assert (data["last_name"], data["city"], data["tags"]) == ("Lee-Smith", "Leeds", ["Hot", "new"])
    assert patched.headers["ETag"] == '"2"'
    assert events(app, "contact.updated")[-1]["changes"] == ["last_name", "tags"]

    replaced = api.put(url, json={"first_name": "Ann"})
    assert replaced.status_code == 200, replaced.json
    data = replaced.json["data"]
    assert (data["last_name"], data["city"], data["email"], data["tags"]) == (None, None, None, [])
    assert data["owner_id"] == acme.owner_id and data["status"] == "Lead"  # these keep their values

    deal_id = add_deal(app, acme, "Ann's order", contact_id=contact_id)
    assert api.delete(url).status_code == 204
    assert row(app, Contact, contact_id) is None
    assert row(app, Deal, deal_id).contact_id is None  # the deal stays
    assert events(app, "contact.deleted") == [{"id": contact_id, "name": "Ann", "email": None}]
    assert api.get(url).status_code == 404


def test_put_needs_a_name_or_email(app, api, acme):
    [contact_id] = add_contacts(app, acme, {"first_name": "Ann"})
    response = api.put(f"{CONTACTS}/{contact_id}", json={"city": "Leeds"})
    assert response.status_code == 422
    assert response.json == invalid(
        "first_name", "The first name field is required when last name and email are not present.")


def test_stale_if_match_is_412_and_idempotency_key_replays(app, api, acme):
    [contact_id] = add_contacts(app, acme, {"first_name": "Ann"})
    url = f"{CONTACTS}/{contact_id}"
    assert api.patch(url, json={"city": "York"}, headers={"If-Match": '"1"'}).status_code == 200
    stale = api.patch(url, json={"city": "Hull"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert row(app, Contact, contact_id).city == "York"
    assert api.delete(url, headers={"If-Match": '"1"'}).status_code == 412

    key = {"Idempotency-Key": "create-bob"}
    first = api.post(CONTACTS, json={"first_name": "Bob"}, headers=key)
    again = api.post(CONTACTS, json={"first_name": "Bob"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers.get("Idempotent-Replayed") == "true"
    assert names(api.get(f"{CONTACTS}?q=bob")) == ["Bob"]


# --- validation ----------------------------------------------------------------------

@pytest.mark.parametrize("body, field, message", [
    ({"first_name": "A", "email": "not-an-email"}, "email", "The email must be a valid email address."),
    ({"city": "Leeds"}, "first_name", "The first name field is required when last name and email are not present."),
    ({"first_name": "A", "status": "Royalty"}, "status", "The selected status is invalid."),
    ({"first_name": "A", "owner_id": 999999}, "owner_id", "The selected owner id is invalid."),
    ({"first_name": "A", "account_id": 999999}, "account_id", "The selected account id is invalid."),
    ({"first_name": "A", "tags": ["x" * 61]}, "tags", "Each tag may not be greater than 60 characters."),
    ({"first_name": "x" * 121}, "first_name", "The first name may not be greater than 120 characters."),
    ({"first_name": "A", "nickname": "Al"}, "nickname", "The nickname field is not allowed."),
])
def test_invalid_contact_is_422_and_saves_nothing(app, api, body, field, message):
    response = api.post(CONTACTS, json=body)
    assert response.status_code == 422
    assert response.json == invalid(field, message)
    assert api.get(CONTACTS).json["meta"]["total"] == 0


@pytest.mark.parametrize("custom, field, message", [
    ({"tier": "Bronze"}, "custom_fields.tier", "The Tier must be one of: Gold, Silver."),
    ({"seats": "many"}, "custom_fields.seats", "The Seats must be a number."),
    ({"vip": "perhaps"}, "custom_fields.vip", "The VIP must be true or false."),
    ({"birthday": "03/02/1990"}, "custom_fields.birthday", "The Birthday must be a date (YYYY-MM-DD)."),
    ({"shoe_size": 9}, "custom_fields.shoe_size", "There is no contact field named shoe_size."),
])
def test_custom_field_errors_are_422(api, fields, custom, field, message):
    response = api.post(CONTACTS, json={"first_name": "A", "custom_fields": custom})
    assert response.status_code == 422
    assert response.json == invalid(field, message)


def test_required_custom_field(app, api, acme):
    add_custom_fields(app, acme, {"key": "region", "label": "Region", "required": True})
    response = api.post(CONTACTS, json={"first_name": "A"})
    assert response.json == invalid("custom_fields.region", "The Region field is required.")
    assert api.post(CONTACTS, json={"first_name": "A", "custom_fields": {"region": "North"}}).status_code == 201


def test_several_errors_at_once(api, fields):
    response = api.post(CONTACTS, json={"email": "bad", "status": "Nope", "custom_fields": {"seats": "x"}})
    assert response.status_code == 422
    assert response.json["errors"] == {
        "email": ["The email must be a valid email address."],
        "status": ["The selected status is invalid."],
        "custom_fields.seats": ["The Seats must be a number."],
    }
    assert response.json["message"] == "The email must be a valid email address. (and 2 more errors)"


def test_account_of_another_owner_cannot_be_linked_by_a_user_who_cannot_see_it(app, api_as, acme, staff):
    own, _ = staff
    [hidden] = add_accounts(app, acme, {"name": "Owner's account"})
    [mine] = add_accounts(app, acme, {"name": "Mine", "owner_id": own})
    client = api_as(own)
    response = client.post(CONTACTS, json={"first_name": "A", "account_id": hidden})
    assert response.json == invalid("account_id", "The selected account id is invalid.")
    assert client.post(CONTACTS, json={"first_name": "A", "account_id": mine}).status_code == 201


# --- permissions and ownership -------------------------------------------------------

def test_permission_failures_are_403(app, api_as, acme):
    reader = make_user(app, acme, "reader@acme.example", ["contacts.view"])
    [contact_id] = add_contacts(app, acme, {"first_name": "Own", "owner_id": reader})
    client = api_as(reader)
    assert client.get(f"{CONTACTS}/{contact_id}").status_code == 200
    assert client.post(CONTACTS, json={"first_name": "X"}).json == UNAUTHORIZED
    assert client.post(f"{CONTACTS}/upsert", json={"email": "x@example.com"}).status_code == 403
    assert client.patch(f"{CONTACTS}/{contact_id}", json={"first_name": "X"}).status_code == 403
    assert client.delete(f"{CONTACTS}/{contact_id}").status_code == 403
    nobody = make_user(app, acme, "nobody@acme.example", [])
    assert api_as(nobody).get(CONTACTS).status_code == 403
    # A token narrowed to read-only abilities cannot write even for an admin.
    assert api_as(acme.owner_id, ["contacts.view"]).post(CONTACTS, json={"first_name": "X"}).status_code == 403


def test_a_user_without_view_all_sees_only_their_own(app, api_as, acme, staff):
    own, every = staff
    mine, theirs = add_contacts(app, acme, {"first_name": "Mine", "owner_id": own},
                                {"first_name": "Theirs"})
    client = api_as(own)
    assert names(client.get(CONTACTS)) == ["Mine"]
    assert client.get(f"{CONTACTS}/{theirs}").json == NOT_FOUND
    assert client.patch(f"{CONTACTS}/{theirs}", json={"first_name": "X"}).status_code == 404
    assert client.delete(f"{CONTACTS}/{theirs}").status_code == 404
    assert row(app, Contact, theirs).first_name == "Theirs"
    # Created by them, owned by them (and so visible to them).
    created = client.post(CONTACTS, json={"first_name": "New"}).json["data"]
    assert created["owner_id"] == own
    assert sorted(names(api_as(every).get(CONTACTS))) == ["Mine", "New", "Theirs"]
    assert api_as(every).get(f"{CONTACTS}/{theirs}").status_code == 200


def test_a_user_limited_to_selected_contacts_sees_only_those(app, api_as, acme):
    user = make_user(app, acme, "picked@acme.example", ["contacts.view", "contacts.view_all", "deals.view"])
    chosen, other = add_contacts(app, acme, {"first_name": "Chosen"}, {"first_name": "Other"})
    limit_to_contacts(app, user, [chosen])
    client = api_as(user)
    assert names(client.get(CONTACTS)) == ["Chosen"]
    assert client.get(f"{CONTACTS}/{other}").status_code == 404
    assert client.get(f"{CONTACTS}/{chosen}").status_code == 200


def test_seed_003_owned_owner_and_assign(app, api_as, api, acme, staff):
    own, _ = staff
    add_contacts(app, acme, {"first_name": "Olive's", "owner_id": own}, {"first_name": "Boss's"},
                 {"first_name": "Nobody's", "owner_id": None})
    assert names(api.get(f"{CONTACTS}?owned=1")) == ["Boss's"]
    assert names(api.get(f"{CONTACTS}?owner={own}")) == ["Olive's"]
    assert names(api.get(f"{CONTACTS}?assign={own}")) == ["Olive's"]
    assert names(api.get(f"{CONTACTS}?owner_id={own}")) == ["Olive's"]
    assert names(api.get(f"{CONTACTS}?filter[owner_id]={own},{acme.owner_id}&sort=first_name")) == [
        "Boss's", "Olive's"]
    assert api.get(f"{CONTACTS}?owner=me").json == invalid("owner", "The owner filter must be a whole number.")


# --- upsert by e-mail ----------------------------------------------------------------

def test_upsert_creates_then_updates_the_same_contact(app, api, acme):
    created = api.post(f"{CONTACTS}/upsert", json={"email": "john@example.com", "fname": "John", "lname": "Doe",
                                                    "mobtel": "+44 7911 123456", "status": "Lead"})
    assert created.status_code == 201, created.json
    contact_id = created.json["data"]["id"]
    assert created.headers["Location"].endswith(f"/api/v1/contacts/{contact_id}")
    assert created.json["data"]["mobile_phone"] == "+447911123456"

    updated = api.post(f"{CONTACTS}/upsert", json={"email": "JOHN@example.com", "status": "Customer",
                                                    "city": "Sampleton"})
    assert updated.status_code == 200, updated.json
    data = updated.json["data"]
    assert data["id"] == contact_id
    assert (data["first_name"], data["status"], data["city"]) == ("John", "Customer", "Sampleton")
    assert "Location" not in updated.headers
    assert api.get(CONTACTS).json["meta"]["total"] == 1
    assert [e["id"] for e in events(app, "contact.updated")] == [contact_id]


def test_upsert_needs_a_valid_email(api):
    assert api.post(f"{CONTACTS}/upsert", json={"fname": "John"}).json == invalid(
        "email", "The email field is required.")
    assert api.post(f"{CONTACTS}/upsert", json={"email": "nope"}).json == invalid(
        "email", "The email must be a valid email address.")


def test_upsert_of_a_contact_the_user_cannot_see_is_409(app, api_as, acme, staff):
    own, _ = staff
    [hidden] = add_contacts(app, acme, {"first_name": "Hidden", "email": "hidden@example.com"})
    response = api_as(own).post(f"{CONTACTS}/upsert", json={"email": "hidden@example.com", "fname": "Twin"})
    assert response.status_code == 409
    assert response.json == {"message": "A contact with this email exists, but it is not one you may see."}
    assert row(app, Contact, hidden).first_name == "Hidden"


# --- list filters, search, sort ------------------------------------------------------

def test_filters_status_tag_account_and_search(app, api, acme):
    [initech] = add_accounts(app, acme, {"name": "Initech"})
    add_contacts(
        app, acme,
        {"first_name": "Ann", "last_name": "Archer", "status": "Customer", "tags": ["vip"], "account_id": initech},
        {"first_name": "Ben", "last_name": "Baker", "email": "ben@bakery.example", "tags": ["newsletter"]},
        {"first_name": "Cat", "last_name": "Cole", "status": "Customer", "tags": ["vip", "newsletter"]},
    )
    assert names(api.get(f"{CONTACTS}?status=Customer&sort=name")) == ["Ann Archer", "Cat Cole"]
    assert names(api.get(f"{CONTACTS}?tag=VIP&sort=name")) == ["Ann Archer", "Cat Cole"]
    assert names(api.get(f"{CONTACTS}?filter[tag]=newsletter&sort=-name")) == ["Cat Cole", "Ben Baker"]
    assert names(api.get(f"{CONTACTS}?account_id={initech}")) == ["Ann Archer"]
    assert names(api.get(f"{CONTACTS}?q=bakery")) == ["Ben Baker"]
    assert names(api.get(f"{CONTACTS}?q=cat col")) == ["Cat Cole"]
    page = api.get(f"{CONTACTS}?per_page=2&sort=name").json
    assert page["meta"] == {"current_page": 1, "last_page": 2, "per_page": 2, "total": 3, "from": 1, "to": 2}
    assert "tag" not in page["links"]["next"]
    assert api.get(f"{CONTACTS}?sort=shoe").json == invalid("sort", "The selected sort is invalid.")


def test_custom_field_filters(app, api, acme, fields):
    add_contacts(app, acme,
                 {"first_name": "Gold", "custom_fields": {"tier": "Gold", "seats": 5, "vip": True}},
                 {"first_name": "Silver", "custom_fields": {"tier": "Silver", "seats": 12, "vip": False}},
                 {"first_name": "Plain"})
    assert names(api.get(f"{CONTACTS}?cf[tier]=Gold")) == ["Gold"]
    assert names(api.get(f"{CONTACTS}?filter[cf.tier]=Silver")) == ["Silver"]
    assert names(api.get(f"{CONTACTS}?cf[seats]=12")) == ["Silver"]
    assert names(api.get(f"{CONTACTS}?cf[vip]=1")) == ["Gold"]
    assert api.get(f"{CONTACTS}?cf[shoe]=9").json == invalid("cf[shoe]", "There is no contact field named shoe.")
    assert api.get(f"{CONTACTS}?cf[seats]=lots").json == invalid("cf[seats]", "The cf[seats] filter must be a number.")


# --- CSV -----------------------------------------------------------------------------

def test_csv_has_custom_field_columns_and_no_formulas(app, api, acme, fields):
    [initech] = add_accounts(app, acme, {"name": "Initech"})
    add_contacts(app, acme,
                 {"first_name": "=HYPERLINK(\"http://evil\")", "last_name": "Doe", "email": "j@example.com",
                  "mobile_phone": "+441174960123", "tags": ["b", "a"], "account_id": initech,
                  "custom_fields": {"tier": "Gold", "seats": 5, "vip": True}},
                 {"first_name": "Other", "status": "Customer"})
    rows = read_csv(api.get(f"{CONTACTS}?format=csv&sort=last_name"))
    assert len(rows) == 2
    header = list(rows[0].keys())
    assert header[-4:] == ["cf_tier", "cf_seats", "cf_vip", "cf_birthday"]
    doe = next(r for r in rows if r["last_name"] == "Doe")
    assert doe["first_name"] == "'=HYPERLINK(\"http://evil\")"
    assert doe["mobile_phone"] == "'+441174960123"
    assert (doe["tags"], doe["account_name"], doe["owner_name"]) == ("a, b", "Initech", "Owner Acme")
    assert (doe["cf_tier"], doe["cf_seats"], doe["cf_vip"], doe["cf_birthday"]) == ("Gold", "5", "1", "")
    assert [r["first_name"] for r in read_csv(api.get(f"{CONTACTS}?format=csv&status=Customer"))] == ["Other"]


def test_csv_of_one_contact_and_csv_respects_ownership(app, api_as, api, acme, staff):
    own, _ = staff
    mine, _theirs = add_contacts(app, acme, {"first_name": "Mine", "owner_id": own}, {"first_name": "Theirs"})
    assert [r["first_name"] for r in read_csv(api_as(own).get(f"{CONTACTS}?format=csv"))] == ["Mine"]
    assert [r["id"] for r in read_csv(api.get(f"{CONTACTS}/{mine}?format=csv"))] == [str(mine)]


# --- tenancy -------------------------------------------------------------------------

def test_another_business_contact_is_404_on_every_route(app, api, globex):
    [secret] = add_contacts(app, globex, {"first_name": "Globex", "email": "secret@globex.example"})
    url = f"{CONTACTS}/{secret}"
    assert api.get(url).json == NOT_FOUND
    assert api.get(f"{url}?format=csv").status_code == 404
    assert api.put(url, json={"first_name": "X"}).status_code == 404
    assert api.patch(url, json={"first_name": "X"}).status_code == 404
    assert api.delete(url).status_code == 404
    assert api.get(CONTACTS).json["data"] == []
    # Upsert with the other business's e-mail creates a contact here; theirs is untouched.
    created = api.post(f"{CONTACTS}/upsert", json={"email": "secret@globex.example", "fname": "Ours"})
    assert created.status_code == 201 and created.json["data"]["id"] != secret
    assert row(app, Contact, secret).first_name == "Globex"


def test_another_business_account_cannot_be_linked(app, api, globex):
    [theirs] = add_accounts(app, globex, {"name": "Globex"})
    response = api.post(CONTACTS, json={"first_name": "A", "account_id": theirs})
    assert response.json == invalid("account_id", "The selected account id is invalid.")
