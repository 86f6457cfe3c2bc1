"""/api/v1/capture-forms: CRUD, key generation and rotation, validation, permission, tenancy."""
import pytest

from app.pipelines.models import CaptureForm
from tests.conftest import make_user
from tests.leads_support import add_form, add_pipeline, rows

FORMS = "/api/v1/capture-forms"


def test_create_generates_a_key_and_lists(app, api, acme):
    pipeline = add_pipeline(app, acme)
    response = api.post(FORMS, json={"name": "Website", "pipeline_id": pipeline["id"],
                                     "stage_id": pipeline["stages"]["New"], "owner_id": acme.owner_id,
                                     "allowed_origins": ["HTTPS://Shop.Example/", "https://shop.example:8443"],
                                     "honeypot_field": "company_url"})
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert response.headers["Location"].endswith(f"{FORMS}/{data['id']}")
    assert len(data["key"]) >= 32
    assert data["endpoint"].endswith(f"/api/v1/public/leads/{data['key']}")
    assert data["allowed_origins"] == ["https://shop.example", "https://shop.example:8443"]
    assert data["pipeline"] == {"id": pipeline["id"], "name": "Sales"}
    assert data["stage"] == {"id": pipeline["stages"]["New"], "name": "New"}
    assert (data["honeypot_field"], data["is_active"], data["owner_id"]) == ("company_url", True, acme.owner_id)

    listed = api.get(FORMS)
    assert [f["id"] for f in listed.json["data"]] == [data["id"]]
    other = api.post(FORMS, json={"name": "Other"}).json["data"]
    assert other["key"] != data["key"] and other["honeypot_field"] == "website_url"


def test_rotate_key(app, api, client, acme):
    form_id, old_key = add_form(app, acme, name="Web")
    response = api.post(f"{FORMS}/{form_id}/rotate-key")
    assert response.status_code == 200
    new_key = response.json["data"]["key"]
    assert new_key != old_key
    assert client.post(f"/api/v1/public/leads/{old_key}", json={"email": "a@example.com"}).status_code == 404
    assert client.post(f"/api/v1/public/leads/{new_key}", json={"email": "a@example.com"}).status_code == 201


def test_validation(app, api, acme):
    pipeline = add_pipeline(app, acme)
    other = add_pipeline(app, acme, name="Other", is_default=False)
    response = api.post(FORMS, json={"name": "", "allowed_origins": ["http://shop.example", "https://ok.example",
                                                                     "https://shop.example/path"],
                                     "pipeline_id": pipeline["id"], "stage_id": other["stages"]["New"],
                                     "honeypot_field": "email"})
    assert response.status_code == 422
    origin_message = "Each allowed origin must look like https://example.com (optionally with a :port, no path)."
    assert response.json == {"message": "The name field is required.",
                             "errors": {"name": ["The name field is required."]}}
    full = api.post(FORMS, json={"name": "Web", "allowed_origins": ["http://shop.example", "https://ok.example",
                                                                    "https://shop.example/path"],
                                 "pipeline_id": pipeline["id"], "stage_id": other["stages"]["New"],
                                 "honeypot_field": "email"})
    assert full.status_code == 422
    assert full.json["errors"] == {
        "allowed_origins.0": [origin_message], "allowed_origins.2": [origin_message],
        "honeypot_field": ["The honeypot field must not be one of the lead's own fields."],
        "stage_id": ["The selected stage does not belong to the pipeline."],
    }
    assert rows(app, CaptureForm) == []


def test_patch_put_delete(app, api, acme):
    form_id, key = add_form(app, acme, name="Web", allowed_origins=["https://a.example"])
    patched = api.patch(f"{FORMS}/{form_id}", json={"is_active": False})
    assert patched.status_code == 200
    assert patched.json["data"]["is_active"] is False and patched.json["data"]["allowed_origins"] == ["https://a.example"]
    assert patched.json["data"]["key"] == key
    replaced = api.put(f"{FORMS}/{form_id}", json={"name": "Renamed"})
    assert replaced.json["data"]["allowed_origins"] == [] and replaced.json["data"]["is_active"] is True
    assert api.delete(f"{FORMS}/{form_id}").status_code == 204
    assert rows(app, CaptureForm) == []


def test_needs_crm_settings(app, api_as, acme):
    form_id, _ = add_form(app, acme)
    sales = api_as(make_user(app, acme, "sales@acme.example", permissions=["leads.view_all", "leads.create"]))
    assert sales.get(FORMS).status_code == 403
    assert sales.post(FORMS, json={"name": "X"}).json == {"message": "Unauthorized"}
    assert sales.post(f"{FORMS}/{form_id}/rotate-key").status_code == 403
    admin = api_as(make_user(app, acme, "admin2@acme.example", permissions=["crm.settings"]))
    assert admin.get(FORMS).status_code == 200


@pytest.mark.parametrize("method, suffix, body", [
    ("get", "", None), ("patch", "", {"name": "X"}), ("put", "", {"name": "X"}), ("delete", "", None),
    ("post", "/rotate-key", None),
])
def test_other_business_is_404(app, api, globex, method, suffix, body):
    form_id, key = add_form(app, globex, name="G")
    kwargs = {"json": body} if body is not None else {}
    response = getattr(api, method)(f"{FORMS}/{form_id}{suffix}", **kwargs)
    assert response.status_code == 404 and response.json == {"message": "Not found"}
    assert rows(app, CaptureForm)[0].key == key
