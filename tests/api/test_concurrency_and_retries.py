"""ETag / If-Match (no silent overwrites) and Idempotency-Key (safe retries) on the API."""
from sqlalchemy import func, select

from app.extensions import db
from app.locations.models import Location
from tests.api.conftest import add_locations, location_row

STALE = {"message": "Someone else changed this record since you loaded it. Reload it and try again."}


def _count(app) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(Location).execution_options(all_tenants=True)
        return db.session.scalar(stmt)


def test_get_carries_an_etag_and_answers_304_when_unchanged(app, api, acme):
    [location_id] = add_locations(app, acme, {"name": "Depot"})
    first = api.get(f"/api/v1/locations/{location_id}")
    assert first.status_code == 200 and first.headers["ETag"] == '"1"'
    again = api.get(f"/api/v1/locations/{location_id}", headers={"If-None-Match": '"1"'})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == '"1"'


def test_if_match_refuses_a_stale_write(app, api, acme):
    [location_id] = add_locations(app, acme, {"name": "Depot", "city": "Leeds"})
    url = f"/api/v1/locations/{location_id}"
    ok = api.patch(url, json={"city": "York"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"' and ok.json["data"]["city"] == "York"

    stale = api.patch(url, json={"city": "Hull"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json == STALE
    stale_put = api.put(url, json={"name": "Renamed"}, headers={"If-Match": 'W/"1"'})
    assert stale_put.status_code == 412
    stale_delete = api.delete(url, headers={"If-Match": '"1"'})
    assert stale_delete.status_code == 412
    garbage = api.patch(url, json={"city": "Hull"}, headers={"If-Match": '"abc"'})
    assert garbage.status_code == 412
    row = location_row(app, location_id)
    assert (row.name, row.city, row.version) == ("Depot", "York", 2)

    assert api.patch(url, json={"city": "Bath"}, headers={"If-Match": "*"}).status_code == 200
    assert api.patch(url, json={"city": "Ely"}).status_code == 200  # no If-Match: last write wins
    assert api.delete(url, headers={"If-Match": '"4"'}).status_code == 204
    assert location_row(app, location_id) is None


def test_a_retried_create_with_the_same_key_is_replayed(app, api, acme):
    headers = {"Idempotency-Key": "order-7781"}
    first = api.post("/api/v1/locations", json={"name": "Kiosk"}, headers=headers)
    second = api.post("/api/v1/locations", json={"name": "Kiosk"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json == first.json
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert _count(app) == 1


def test_the_same_key_with_another_body_is_a_422(app, api, acme):
    headers = {"Idempotency-Key": "k-1"}
    assert api.post("/api/v1/locations", json={"name": "Kiosk"}, headers=headers).status_code == 201
    other = api.post("/api/v1/locations", json={"name": "Other"}, headers=headers)
    assert other.status_code == 422
    assert other.json == {
        "message": "This Idempotency-Key was already used with a different request.",
        "errors": {"Idempotency-Key": ["This Idempotency-Key was already used with a different request."]},
    }
    assert _count(app) == 1


def test_a_failed_attempt_does_not_use_up_the_key(app, api, acme):
    headers = {"Idempotency-Key": "retry-me"}
    bad = api.post("/api/v1/locations", json={"name": ""}, headers=headers)
    assert bad.status_code == 422
    fixed = api.post("/api/v1/locations", json={"name": "Kiosk"}, headers=headers)
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers
    assert _count(app) == 1


def test_keys_belong_to_one_credential(app, api, api_as, acme):
    other_token = api_as(acme.owner_id)
    headers = {"Idempotency-Key": "shared-name"}
    assert api.post("/api/v1/locations", json={"name": "A"}, headers=headers).status_code == 201
    second = other_token.post("/api/v1/locations", json={"name": "A"}, headers=headers)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert _count(app) == 2


def test_too_long_key_is_a_422(api):
    response = api.post("/api/v1/locations", json={"name": "A"}, headers={"Idempotency-Key": "x" * 256})
    assert response.status_code == 422
    assert response.json["errors"] == {"Idempotency-Key": ["The Idempotency-Key may not be greater than 255 characters."]}


def test_openapi_documents_if_match_and_idempotency_key(client):
    spec = client.get("/api/v1/openapi.json").json
    patch = spec["paths"]["/api/v1/locations/{location_id}"]["patch"]
    names = {p["name"] for p in patch["parameters"]}
    assert {"If-Match", "Idempotency-Key"} <= names
    assert {"409", "412"} <= set(patch["responses"])
