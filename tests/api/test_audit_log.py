"""/api/v1/audit-log: list conventions, filters, detail, permissions, tenancy, and the
entries that changes made through the API leave behind."""
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.core.audit import AuditEntry
from app.extensions import db
from tests.conftest import make_user

URL = "/api/v1/audit-log"
NOT_FOUND = {"message": "Not found"}
UNAUTHORIZED = {"message": "Unauthorized"}


def _entry_ids(app, business_id) -> list[int]:
    with app.app_context():
        stmt = (select(AuditEntry.id).where(AuditEntry.business_id == business_id)
                .execution_options(all_tenants=True).order_by(AuditEntry.id))
        return list(db.session.scalars(stmt))


def _backdate(app, entry_id: int, moment: datetime) -> None:
    with app.app_context():
        db.session.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(created_at=moment)
                           .execution_options(all_tenants=True))
        db.session.commit()


def test_list_is_newest_first_with_meta_and_links(api, acme):
    response = api.get(URL)
    assert response.status_code == 200
    body = response.json
    assert [(e["entity_type"], e["action"]) for e in body["data"]] == [
        ("user", "created"), ("role", "created"), ("role", "created"), ("business", "created")]
    assert body["meta"] == {"current_page": 1, "last_page": 1, "per_page": 20, "total": 4, "from": 1, "to": 4}
    assert body["links"]["next"] is None
    first = body["data"][-1]
    assert set(first) == {"id", "created_at", "action", "entity_type", "entity_id", "entity_label", "user_id",
                          "user_name", "credential", "ip_address", "before", "after"}
    assert first["credential"] == "system" and first["user_id"] is None and first["created_at"].endswith("Z")


def test_an_agent_change_through_the_agents_api_names_the_token_user(app, api, acme):
    created = api.post("/api/v1/commission-agents", json={"first_name": "Jane", "cmmsn_percent": 10}).json["data"]
    api.patch(f"/api/v1/commission-agents/{created['id']}", json={"cmmsn_percent": "12.5", "email": "j@x.example"})
    entries = api.get(f"{URL}?entity_type=commission_agent&entity_id={created['id']}").json["data"]
    assert [e["action"] for e in entries] == ["updated", "created"]
    updated = entries[0]
    assert updated["user_id"] == acme.owner_id and updated["user_name"] == "Owner Acme"
    assert updated["credential"] == "token" and updated["ip_address"] == "127.0.0.1"
    assert updated["entity_label"] == "Jane"
    assert updated["before"] == {"email": None, "cmmsn_percent": "10.00"}
    assert updated["after"] == {"email": "j@x.example", "cmmsn_percent": "12.50"}


def test_a_role_permission_change_shows_the_names(api, acme):
    role = api.post("/api/v1/roles", json={"name": "Clerk", "permissions": ["locations.view"]}).json["data"]
    api.patch(f"/api/v1/roles/{role['id']}", json={"permissions": ["roles.view"], "spg_permissions": ["user.view"]})
    entry = api.get(f"{URL}?entity_type=role&action=updated").json["data"][0]
    assert entry["entity_id"] == role["id"] and entry["entity_label"] == "Clerk"
    assert entry["before"] == {"permissions": ["locations.view"]}
    assert entry["after"] == {"permissions": ["roles.view", "user.view"]}


def test_filters_search_and_sort(app, api, api_as, acme):
    clerk = make_user(app, acme, "clerk@acme.example", ["locations.create", "locations.update"])
    clerk_api = api_as(clerk)
    clerk_api.post("/api/v1/locations", json={"name": "Harbour Shop"})
    api.post("/api/v1/locations", json={"name": "Market Stall"})
    by_clerk = api.get(f"{URL}?user_id={clerk}").json["data"]
    assert [(e["entity_label"], e["user_name"]) for e in by_clerk] == [("Harbour Shop", "Clerk")]
    assert {e["entity_label"] for e in api.get(f"{URL}?filter[entity_type]=location").json["data"]} == {
        "Harbour Shop", "Market Stall"}
    assert [e["entity_label"] for e in api.get(f"{URL}?q=harb").json["data"]] == ["Harbour Shop"]
    assert [e["entity_label"] for e in api.get(f"{URL}?search=clerk&entity_type=location").json["data"]] == [
        "Harbour Shop"]  # the actor's name is searched too
    assert api.get(f"{URL}?action=deleted").json["data"] == []
    assert api.get(f"{URL}?credential=system").json["meta"]["total"] == 6  # sign-up 4, make_user's role+user
    oldest = api.get(f"{URL}?sort=created_at&direction=asc&per_page=1").json
    assert oldest["data"][0]["entity_type"] == "business" and oldest["meta"]["last_page"] == oldest["meta"]["total"]


def test_date_range_is_inclusive_in_the_business_time_zone(app, api, acme):
    ids = _entry_ids(app, acme.business_id)
    _backdate(app, ids[0], datetime(2026, 3, 1, 23, 30, tzinfo=UTC))  # 2 March 00:30 in Berlin
    _backdate(app, ids[1], datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
    assert [e["id"] for e in api.get(f"{URL}?date_from=2026-03-01&date_to=2026-03-01").json["data"]] == [ids[0]]
    api.patch("/api/v1/business", json={"timezone": "Europe/Berlin"})
    assert api.get(f"{URL}?date_from=2026-03-01&date_to=2026-03-01").json["data"] == []
    assert [e["id"] for e in api.get(f"{URL}?date_from=2026-03-02&date_to=2026-03-03").json["data"]] == [
        ids[1], ids[0]]
    today = datetime.now(UTC).date()
    assert api.get(f"{URL}?date_to={today - timedelta(days=2)}").json["meta"]["total"] == 2


@pytest.mark.parametrize("query, errors", [
    ("q=a", {"q": ["The q field must be at least 2 characters."]}),
    ("date_from=yesterday", {"date_from": ["The date from must be a date (YYYY-MM-DD)."]}),
    ("date_from=2026-03-02&date_to=2026-03-01", {"date_to": ["The date to must be a date after or equal to"
                                                              " date from."]}),
    ("action=archived", {"action": ["The action filter must be one of: created, updated, deleted."]}),
    ("user_id=me", {"user_id": ["The user_id filter must be a whole number."]}),
    ("sort=actor_name", {"sort": ["The selected sort is invalid."]}),
])
def test_bad_queries_are_422(api, query, errors):
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 422
    assert response.json == {"message": next(iter(errors.values()))[0], "errors": errors}


def test_csv_has_every_matching_entry(api, acme):
    response = api.get(f"{URL}?format=csv&entity_type=role&per_page=1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffid,created_at,action,entity_type,entity_id,entity_label,user_id,user_name,"
                           "credential,ip_address,before,after\r\n")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["entity_label"] for r in rows] == ["Cashier", "Admin"]
    assert rows[0]["after"].startswith('{"name":"Cashier"')


def test_detail_and_its_csv(api, app, acme):
    entry_id = _entry_ids(app, acme.business_id)[0]
    response = api.get(f"{URL}/{entry_id}")
    assert response.status_code == 200
    assert response.json["data"]["id"] == entry_id and response.json["data"]["entity_type"] == "business"
    csv_text = api.get(f"{URL}/{entry_id}?format=csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].endswith(",data_json")


def test_another_business_entry_is_404_and_invisible(app, api, acme, globex):
    globex_entry = _entry_ids(app, globex.business_id)[0]
    assert api.get(f"{URL}/{globex_entry}").json == NOT_FOUND
    assert api.get(f"{URL}/{globex_entry}").status_code == 404
    assert api.get(f"{URL}/999999").status_code == 404
    assert all(e["entity_label"] != "Globex Corporation" for e in api.get(f"{URL}?per_page=100").json["data"])
    assert api.get(URL).json["meta"]["total"] == 4


def test_audit_view_is_needed(app, api_as, acme):
    viewer = make_user(app, acme, "viewer@acme.example", ["locations.view"])
    entry_id = _entry_ids(app, acme.business_id)[0]
    assert api_as(viewer).get(URL).status_code == 403
    response = api_as(viewer).get(f"{URL}/{entry_id}")
    assert response.status_code == 403 and response.json == UNAUTHORIZED
    auditor = make_user(app, acme, "auditor@acme.example", ["audit.view"])
    assert api_as(auditor).get(URL).status_code == 200


def test_a_token_without_the_ability_is_refused(api_as, acme):
    assert api_as(acme.owner_id, abilities=["locations.view"]).get(URL).status_code == 403
    assert api_as(acme.owner_id, abilities=["audit.view"]).get(URL).status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_entries_cannot_be_written(app, api, acme, method):
    entry_id = _entry_ids(app, acme.business_id)[0]
    url = URL if method == "post" else f"{URL}/{entry_id}"
    response = getattr(api, method)(url, json={})
    assert response.status_code == 405
    assert len(_entry_ids(app, acme.business_id)) == 4
