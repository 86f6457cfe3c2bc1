"""/api/v1/custom-fields: definitions CRUD, key rules, permissions, tenancy."""
import pytest

from app.pipelines.models import CustomField
from tests.conftest import make_user
from tests.pipelines.factories import add_custom_fields, row

FIELDS = "/api/v1/custom-fields"


def invalid(field: str, message: str) -> dict:
    return {"message": message, "errors": {field: [message]}}


def test_create_list_update_delete(app, api, acme):
    response = api.post(FIELDS, json={"entity": "contact", "label": "Membership tier", "type": "choice",
                                      "options": [" Gold ", "Silver", "Gold", ""], "required": True})
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert response.headers["Location"].endswith(f"/api/v1/custom-fields/{data['id']}")
    assert {k: data[k] for k in ("entity", "key", "label", "type", "options", "required", "position")} == {
        "entity": "contact", "key": "membership_tier", "label": "Membership tier", "type": "choice",
        "options": ["Gold", "Silver"], "required": True, "position": 1}
    second = api.post(FIELDS, json={"entity": "contact", "key": "seats", "label": "Seats", "type": "number"})
    assert second.json["data"]["position"] == 2 and second.json["data"]["options"] == []
    api.post(FIELDS, json={"entity": "deal", "key": "seats", "label": "Seats"})  # same key, other entity

    listed = api.get(f"{FIELDS}?entity=contact").json
    assert [f["key"] for f in listed["data"]] == ["membership_tier", "seats"]
    assert api.get(f"{FIELDS}?entity=deal").json["meta"]["total"] == 1

    url = f"{FIELDS}/{data['id']}"
    patched = api.patch(url, json={"label": "Tier", "options": ["Gold", "Silver", "Bronze"]})
    assert patched.status_code == 200, patched.json
    assert patched.json["data"]["options"] == ["Gold", "Silver", "Bronze"]
    replaced = api.put(url, json={"label": "Tier"})
    assert replaced.status_code == 200, replaced.json
    assert (replaced.json["data"]["type"], replaced.json["data"]["options"], replaced.json["data"]["required"],
            replaced.json["data"]["position"]) == ("text", [], False, 1)
    assert api.delete(url).status_code == 204
    assert row(app, CustomField, data["id"]) is None
    assert api.get(url).status_code == 404


@pytest.mark.parametrize("body, field, message", [
    ({"entity": "contact"}, "label", "The label field is required."),
    ({"entity": "invoice", "label": "X"}, "entity", "The selected entity is invalid."),
    ({"entity": "contact", "label": "X", "key": "Bad Key"}, "key",
     "The key may only contain lower-case letters, digits and underscores, and must start with a letter."),
    ({"entity": "contact", "label": "X", "key": "tier"}, "key", "The key has already been taken."),
    ({"entity": "contact", "label": "X", "type": "colour"}, "type", "The selected type is invalid."),
    ({"entity": "contact", "label": "X", "type": "choice"}, "options", "A choice field needs at least one option."),
])
def test_invalid_definitions_are_422(app, api, acme, body, field, message):
    add_custom_fields(app, acme, {"key": "tier", "label": "Tier"})
    response = api.post(FIELDS, json=body)
    assert response.status_code == 422
    assert response.json == invalid(field, message)


def test_entity_and_key_cannot_change(app, api, acme):
    [field_id] = add_custom_fields(app, acme, {"key": "tier", "label": "Tier"})
    response = api.patch(f"{FIELDS}/{field_id}", json={"key": "level"})
    assert response.json == invalid("key", "The key of a field cannot be changed.")
    assert api.patch(f"{FIELDS}/{field_id}", json={"key": "tier", "label": "Level"}).status_code == 200


def test_permissions(app, api_as, acme):
    [field_id] = add_custom_fields(app, acme, {"key": "tier", "label": "Tier"})
    seller = make_user(app, acme, "seller@acme.example", ["contacts.view"])
    client = api_as(seller)
    assert client.get(FIELDS).status_code == 200  # to know what to send
    assert client.post(FIELDS, json={"entity": "contact", "label": "X"}).json == {"message": "Unauthorized"}
    assert client.patch(f"{FIELDS}/{field_id}", json={"label": "X"}).status_code == 403
    assert client.delete(f"{FIELDS}/{field_id}").status_code == 403
    nobody = make_user(app, acme, "nobody@acme.example", [])
    assert api_as(nobody).get(FIELDS).status_code == 403
    admin = make_user(app, acme, "admin@acme.example", ["crm.settings"])
    assert api_as(admin).post(FIELDS, json={"entity": "lead", "label": "Budget"}).status_code == 201


def test_another_business_field_is_404_on_every_route(app, api, globex):
    [secret] = add_custom_fields(app, globex, {"key": "secret", "label": "Secret"})
    url = f"{FIELDS}/{secret}"
    assert api.get(url).status_code == 404
    assert api.put(url, json={"label": "X"}).status_code == 404
    assert api.patch(url, json={"label": "X"}).status_code == 404
    assert api.delete(url).status_code == 404
    assert api.get(FIELDS).json["data"] == []
    # Their key does not block ours.
    assert api.post(FIELDS, json={"entity": "contact", "key": "secret", "label": "Ours"}).status_code == 201
