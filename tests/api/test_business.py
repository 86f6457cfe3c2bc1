"""/api/v1/business: read by anyone signed in, changed with `business.settings`."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.team.models import Business
from tests.conftest import make_user

URL = "/api/v1/business"
UNAUTHORIZED = {"message": "Unauthorized"}


def business_row(app, business_id: int) -> Business:
    with app.app_context():
        row = db.session.scalar(select(Business).where(Business.id == business_id))
        db.session.expunge(row)
        return row


def test_get_answers_the_callers_business(api, acme):
    response = api.get(URL)
    assert response.status_code == 200
    data = response.json["data"]
    assert data["id"] == acme.business_id and data["name"] == "Acme Supplies"
    assert {k: data[k] for k in ("currency", "timezone", "plan", "user_quota", "subscription_status", "is_subscribed",
                                 "enforce_subscription", "demo_mode", "decimal_separator")} == {
        "currency": "USD", "timezone": "UTC", "plan": "free", "user_quota": None, "subscription_status": "active",
        "is_subscribed": True, "enforce_subscription": False, "demo_mode": False, "decimal_separator": "."}
    assert data["created_at"].endswith("Z")


def test_any_authenticated_user_may_read_it(app, api_as, acme):
    nobody = make_user(app, acme, "nobody@acme.example", [])
    assert api_as(nobody).get(URL).json["data"]["id"] == acme.business_id


def test_get_as_csv_is_one_row(api):
    response = api.get(f"{URL}?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data(as_text=True).startswith("\ufeffid,name,slug,currency")


def test_unauthenticated_is_401(client):
    assert client.get(URL).status_code == 401


def test_patch_saves_every_switch(app, api, acme):
    response = api.patch(URL, json={
        "name": "Acme Global", "currency": "eur", "timezone": "europe/berlin", "user_quota": 5,
        "enforce_subscription": True, "subscription_status": "past_due", "demo_mode": True,
        "decimal_separator": ","})
    assert response.status_code == 200, response.json
    assert response.json["data"]["is_subscribed"] is False
    row = business_row(app, acme.business_id)
    assert (row.name, row.currency, row.timezone, row.user_quota, row.enforce_subscription, row.subscription_status,
            row.demo_mode, row.decimal_separator) == (
        "Acme Global", "EUR", "Europe/Berlin", 5, True, "past_due", True, ",")


def test_patch_changes_only_what_is_sent_and_null_quota_is_unlimited(app, api, acme):
    api.patch(URL, json={"user_quota": 3})
    assert api.patch(URL, json={"user_quota": None}).status_code == 200
    row = business_row(app, acme.business_id)
    assert row.user_quota is None and row.name == "Acme Supplies" and row.currency == "USD"


def test_quota_zero_is_allowed(app, api, acme):
    assert api.patch(URL, json={"user_quota": 0}).json["data"]["user_quota"] == 0


def test_demo_mode_can_be_switched_off_in_demo_mode(app, api, acme):
    api.patch(URL, json={"demo_mode": True})
    assert api.patch(URL, json={"demo_mode": False}).status_code == 200
    assert business_row(app, acme.business_id).demo_mode is False


def test_service_rules_answer_422_with_every_field(app, api, acme):
    response = api.patch(URL, json={"name": "   ", "currency": "XYZ", "timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert response.json == {
        "message": "The name field is required. (and 2 more errors)",
        "errors": {
            "name": ["The name field is required."],
            "currency": ["The currency must be an ISO 4217 currency code, such as USD or EUR."],
            "timezone": ["The timezone must be a valid time zone, such as Europe/London."],
        },
    }
    assert business_row(app, acme.business_id).name == "Acme Supplies"


@pytest.mark.parametrize("body, errors", [
    ({"user_quota": -1}, {"user_quota": ["The user quota must be at least 0."]}),
    ({"user_quota": 1_000_001}, {"user_quota": ["The user quota may not be greater than 1000000."]}),
    ({"user_quota": "5"}, {"user_quota": ["The user quota must be an integer."]}),
    ({"subscription_status": "gone"}, {"subscription_status": ["The selected subscription status is invalid."]}),
    ({"decimal_separator": ";"}, {"decimal_separator": ["The selected decimal separator is invalid."]}),
    ({"demo_mode": "maybe"}, {"demo_mode": ["The demo mode field must be true or false."]}),
    ({"currency": "EURO"}, {"currency": ["The currency may not be greater than 3 characters."]}),
    ({"plan": "pro"}, {"plan": ["The plan field is not allowed."]}),
])
def test_schema_rules_answer_422(api, body, errors):
    response = api.patch(URL, json=body)
    assert response.status_code == 422
    assert response.json["errors"] == errors
    assert response.json["message"] == next(iter(errors.values()))[0]


def test_patch_needs_business_settings(app, api_as, acme):
    viewer = make_user(app, acme, "viewer@acme.example", ["user.view"])
    response = api_as(viewer).patch(URL, json={"demo_mode": True})
    assert response.status_code == 403 and response.json == UNAUTHORIZED
    assert business_row(app, acme.business_id).demo_mode is False


def test_a_token_without_the_ability_cannot_patch(app, api_as, acme):
    response = api_as(acme.owner_id, abilities=["locations.view"]).patch(URL, json={"demo_mode": True})
    assert response.status_code == 403


def test_a_user_with_the_permission_may_patch(app, api_as, acme):
    manager = make_user(app, acme, "manager@acme.example", ["business.settings"])
    assert api_as(manager).patch(URL, json={"enforce_subscription": True}).status_code == 200
    assert business_row(app, acme.business_id).enforce_subscription is True


def test_patch_changes_only_the_callers_business(app, api, acme, globex):
    api.patch(URL, json={"name": "Renamed"})
    assert business_row(app, globex.business_id).name == "Globex Corporation"


def test_the_change_is_in_the_audit_log_with_the_token_user(app, api, acme):
    api.patch(URL, json={"demo_mode": True, "user_quota": 2})
    entry = api.get("/api/v1/audit-log?entity_type=business&action=updated").json["data"][0]
    assert entry["user_id"] == acme.owner_id and entry["credential"] == "token"
    assert entry["before"] == {"user_quota": None, "demo_mode": False}
    assert entry["after"] == {"user_quota": 2, "demo_mode": True}


def test_currency_must_be_in_use_today(api):
    assert api.patch(URL, json={"currency": "chf"}).json["data"]["currency"] == "CHF"
    for withdrawn_or_not_money in ("DEM", "XAU", "ANG"):
        assert api.patch(URL, json={"currency": withdrawn_or_not_money}).status_code == 422
