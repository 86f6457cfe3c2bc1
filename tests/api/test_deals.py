"""/api/v1/deals: CRUD, move-stage, won/lost, validation, ownership, tenancy, filters, CSV."""
import csv
import io

import pytest
from sqlalchemy import select

from app.core.events import OutboxEvent
from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.conftest import make_user
from tests.web.sales_helpers import deal_values, use_number_format

DEALS = "/api/v1/deals"


@pytest.fixture
def stages(api) -> dict:
    pipeline = api.get("/api/v1/pipelines").json["data"][0]
    return {s["name"]: s for s in pipeline["stages"]} | {"_pipeline": pipeline}


def add_contact(app, tenant, owner_id, first_name="Ada", **fields):
    from app.pipelines.models import Contact

    with app.app_context(), tenant_scope(tenant.business_id):
        contact = Contact(first_name=first_name, last_name="Lovelace", owner_id=owner_id, **fields)
        db.session.add(contact)
        db.session.commit()
        return contact.id


def add_account(app, tenant, owner_id, name="Analytical Engines Ltd"):
    from app.pipelines.models import Account

    with app.app_context(), tenant_scope(tenant.business_id):
        account = Account(name=name, owner_id=owner_id)
        db.session.add(account)
        db.session.commit()
        return account.id


def add_agent(app, tenant, email="agent@acme.example"):
    from app.team.models import User

    with app.app_context(), tenant_scope(tenant.business_id):
        agent = User(first_name="Agent", email=email, is_cmmsn_agnt=True, allow_login=False)
        db.session.add(agent)
        db.session.commit()
        return agent.id


def events(app, name):
    with app.app_context():
        return [e.payload for e in db.session.scalars(select(OutboxEvent).where(OutboxEvent.name == name)
                                                      .order_by(OutboxEvent.id).execution_options(all_tenants=True))]


def titles(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [d["title"] for d in response.json["data"]]


# --- happy paths ---------------------------------------------------------------------

def test_create_a_deal_with_everything(app, api, acme, stages):
    contact_id = add_contact(app, acme, acme.owner_id)
    account_id = add_account(app, acme, acme.owner_id)
    agent_id = add_agent(app, acme)
    body = {"title": "Conservatory plants", "value": "1250.5", "currency": "gbp", "stage_id": stages["Proposal"]["id"],
            "contact_id": contact_id, "account_id": account_id, "commission_agent_id": agent_id,
            "expected_close_date": "2027-03-31"}
    response = api.post(DEALS, json=body)
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert response.headers["Location"].endswith(f"{DEALS}/{data['id']}")
    assert response.headers["ETag"] == '"1"'
    assert {k: data[k] for k in ("title", "value", "currency", "stage_id", "pipeline_id", "status", "position",
                                 "contact_id", "account_id", "commission_agent_id", "expected_close_date",
                                 "owner_id")} == {
        "title": "Conservatory plants", "value": "1250.50", "currency": "GBP", "stage_id": stages["Proposal"]["id"],
        "pipeline_id": stages["_pipeline"]["id"], "status": "open", "position": 0, "contact_id": contact_id,
        "account_id": account_id, "commission_agent_id": agent_id, "expected_close_date": "2027-03-31",
        "owner_id": acme.owner_id}
    assert data["owner"] == {"id": acme.owner_id, "name": "Owner Acme"}
    assert data["contact"] == {"id": contact_id, "name": "Ada Lovelace"}
    assert data["stage"] == {"id": stages["Proposal"]["id"], "name": "Proposal", "kind": "open"}
    assert data["stage_entered_at"].endswith("Z") and data["closed_at"] is None
    [event] = events(app, "deal.created")
    assert event["id"] == data["id"] and event["value"] == "1250.50"


def test_defaults_business_currency_default_pipeline_first_stage(api, stages):
    data = api.post(DEALS, json={"title": "Quick one"}).json["data"]
    assert (data["value"], data["currency"], data["stage_id"]) == ("0.00", "USD", stages["Qualified"]["id"])


def test_get_with_etag_and_csv(api):
    deal = api.post(DEALS, json={"title": "One", "value": 10}).json["data"]
    response = api.get(f"{DEALS}/{deal['id']}")
    assert response.status_code == 200 and response.json["data"] == deal
    assert api.get(f"{DEALS}/{deal['id']}", headers={"If-None-Match": '"1"'}).status_code == 304
    one = api.get(f"{DEALS}/{deal['id']}?format=csv").get_data(as_text=True)
    assert "data_json" in one.splitlines()[0]


def test_patch_and_put(api, stages):
    deal = api.post(DEALS, json={"title": "One", "value": 10, "expected_close_date": "2027-01-01"}).json["data"]
    response = api.patch(f"{DEALS}/{deal['id']}", json={"value": 99.99}, headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.json
    assert response.json["data"]["value"] == "99.99" and response.json["data"]["expected_close_date"] == "2027-01-01"
    assert response.headers["ETag"] == '"2"'
    response = api.put(f"{DEALS}/{deal['id']}", json={"title": "Renamed"})
    assert response.status_code == 200
    assert (response.json["data"]["title"], response.json["data"]["value"],
            response.json["data"]["expected_close_date"]) == ("Renamed", "0.00", None)
    stale = api.patch(f"{DEALS}/{deal['id']}", json={"title": "x"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412


def test_changing_the_stage_by_update_moves_the_deal(app, api, stages):
    deal = api.post(DEALS, json={"title": "One"}).json["data"]
    response = api.patch(f"{DEALS}/{deal['id']}", json={"stage_id": stages["Won"]["id"]})
    assert response.json["data"]["status"] == "won" and response.json["data"]["won_at"]
    assert len(events(app, "deal.won")) == 1


def test_delete(api):
    deal = api.post(DEALS, json={"title": "One"}).json["data"]
    assert api.delete(f"{DEALS}/{deal['id']}").status_code == 204
    assert api.get(f"{DEALS}/{deal['id']}").status_code == 404


def test_idempotent_create(api):
    headers = {"Idempotency-Key": "deal-1"}
    first = api.post(DEALS, json={"title": "Once"}, headers=headers)
    again = api.post(DEALS, json={"title": "Once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert api.get(DEALS).json["meta"]["total"] == 1


# --- move-stage ----------------------------------------------------------------------

def test_move_stage(app, api, stages):
    a = api.post(DEALS, json={"title": "A"}).json["data"]
    b = api.post(DEALS, json={"title": "B"}).json["data"]
    response = api.post(f"{DEALS}/{a['id']}/move-stage", json={"stage_id": stages["Proposal"]["id"]})
    assert response.status_code == 200, response.json
    assert (response.json["data"]["stage_id"], response.json["data"]["position"]) == (stages["Proposal"]["id"], 0)
    assert api.get(f"{DEALS}/{b['id']}").json["data"]["position"] == 0
    [event] = events(app, "deal.stage_changed")
    assert (event["from_stage_id"], event["to_stage_id"]) == (stages["Qualified"]["id"], stages["Proposal"]["id"])


def test_move_stage_within_a_column_by_position(api, stages):
    ids = [api.post(DEALS, json={"title": t}).json["data"]["id"] for t in "ABC"]  # C B A
    api.post(f"{DEALS}/{ids[2]}/move-stage", json={"stage_id": stages["Qualified"]["id"], "position": 2})
    listing = api.get(f"{DEALS}?stage_id={stages['Qualified']['id']}&sort=position")
    assert titles(listing) == ["B", "A", "C"]
    assert [d["position"] for d in listing.json["data"]] == [0, 1, 2]


def test_move_to_lost_needs_a_reason(app, api, stages):
    deal = api.post(DEALS, json={"title": "A"}).json["data"]
    url = f"{DEALS}/{deal['id']}/move-stage"
    response = api.post(url, json={"stage_id": stages["Lost"]["id"]})
    assert response.status_code == 422
    assert response.json == {"message": "A reason is required to mark a deal as lost.",
                             "errors": {"lost_reason": ["A reason is required to mark a deal as lost."]}}
    response = api.post(url, json={"stage_id": stages["Lost"]["id"], "lost_reason": "Too expensive"})
    assert response.status_code == 200
    assert (response.json["data"]["status"], response.json["data"]["lost_reason"]) == ("lost", "Too expensive")
    assert response.json["data"]["lost_at"]
    assert events(app, "deal.lost")[0]["lost_reason"] == "Too expensive"


def test_move_to_an_unknown_or_foreign_stage_is_422(api, api_as, globex):
    deal = api.post(DEALS, json={"title": "A"}).json["data"]
    theirs = api_as(globex.owner_id).get("/api/v1/pipelines").json["data"][0]["stages"][0]
    response = api.post(f"{DEALS}/{deal['id']}/move-stage", json={"stage_id": theirs["id"]})
    assert response.status_code == 422
    assert response.json["errors"] == {"stage_id": ["The selected stage id is invalid."]}


def test_move_stage_if_match(api, stages):
    deal = api.post(DEALS, json={"title": "A"}).json["data"]
    api.patch(f"{DEALS}/{deal['id']}", json={"title": "A2"})
    response = api.post(f"{DEALS}/{deal['id']}/move-stage", json={"stage_id": stages["Proposal"]["id"]},
                        headers={"If-Match": '"1"'})
    assert response.status_code == 412


def test_mark_won_and_lost(app, api, stages):
    a = api.post(DEALS, json={"title": "A"}).json["data"]
    b = api.post(DEALS, json={"title": "B"}).json["data"]
    won = api.post(f"{DEALS}/{a['id']}/won")
    assert won.status_code == 200 and won.json["data"]["stage_id"] == stages["Won"]["id"]
    assert api.post(f"{DEALS}/{b['id']}/lost", json={}).status_code == 422
    lost = api.post(f"{DEALS}/{b['id']}/lost", json={"lost_reason": "Chose a competitor"})
    assert lost.status_code == 200 and lost.json["data"]["status"] == "lost"
    reopened = api.post(f"{DEALS}/{b['id']}/move-stage", json={"stage_id": stages["Negotiation"]["id"]})
    assert (reopened.json["data"]["status"], reopened.json["data"]["lost_reason"]) == ("open", None)


# --- validation ----------------------------------------------------------------------

def test_title_is_required(api):
    response = api.post(DEALS, json={"value": "5"})
    assert response.status_code == 422
    assert response.json == {"message": "The title field is required.", "errors": {"title": ["The title field is required."]}}


@pytest.mark.parametrize("value, message", [
    ("-1", "The value must be at least 0."),
    ("abc", "The value must be an amount like 1,234.56."),
    ("1.005", "The value may have at most 2 decimal places."),
    ("1000000000000", "The value may not be greater than 999999999999.99."),
    (True, "The value must be an amount like 1,234.56."),
])
def test_value_rules(api, value, message):
    response = api.post(DEALS, json={"title": "T", "value": value})
    assert response.status_code == 422
    assert response.json == {"message": message, "errors": {"value": [message]}}


UNREADABLE = "The value must be an amount like 1,234.56."


@pytest.mark.parametrize("value", ["1e9", "1.5k", "0x10", "12abc", "NaN", "Infinity", "1.234,56"])
def test_a_value_it_cannot_read_exactly_is_refused_not_guessed(app, api, acme, value):
    """1e9 was saved as 19, 1.5k as 1.50, 0x10 as 10 and 12abc as 12 on the screens."""
    response = api.post(DEALS, json={"title": "T", "value": value})
    assert response.status_code == 422
    assert response.json == {"message": UNREADABLE, "errors": {"value": [UNREADABLE]}}
    assert deal_values(app, acme) == []


def test_an_amount_in_the_business_number_format(app, api, acme):
    assert api.post(DEALS, json={"title": "Dot", "value": "1,234.56"}).json["data"]["value"] == "1234.56"
    use_number_format(app, acme, ",")
    assert api.post(DEALS, json={"title": "Comma", "value": "1.234,56"}).json["data"]["value"] == "1234.56"
    assert api.post(DEALS, json={"title": "Plain", "value": "99.50"}).json["data"]["value"] == "99.50"
    refused = api.post(DEALS, json={"title": "T", "value": "1,234.56"})
    message = "The value must be an amount like 1.234,56."
    assert refused.status_code == 422 and refused.json == {"message": message, "errors": {"value": [message]}}
    negative = api.post(DEALS, json={"title": "T", "value": "-5"})
    assert negative.json == {"message": "The value must be at least 0.", "errors": {"value": ["The value must be at least 0."]}}
    assert deal_values(app, acme) == [("Comma", "1234.56"), ("Dot", "1234.56"), ("Plain", "99.50")]


def test_a_json_number_is_taken_when_exact(app, api, acme):
    created = api.post(DEALS, data='{"title": "Big", "value": 1e9}', content_type="application/json")
    assert created.status_code == 201 and created.json["data"]["value"] == "1000000000.00"
    inexact = api.post(DEALS, data='{"title": "T", "value": 0.30000000000000004}', content_type="application/json")
    assert inexact.json["errors"] == {"value": ["The value may have at most 2 decimal places."]}
    deal_id = created.json["data"]["id"]
    patched = api.patch(f"{DEALS}/{deal_id}", json={"value": "0x10"})
    assert patched.status_code == 422 and patched.json["errors"] == {"value": [UNREADABLE]}
    assert deal_values(app, acme) == [("Big", "1000000000.00")]


def test_stage_must_belong_to_the_pipeline(api, stages):
    other = api.post("/api/v1/pipelines", json={"name": "Renewals"}).json["data"]
    response = api.post(DEALS, json={"title": "T", "pipeline_id": other["id"], "stage_id": stages["Qualified"]["id"]})
    assert response.status_code == 422
    assert response.json["errors"] == {"stage_id": ["The stage must belong to the pipeline."]}


def test_references_must_be_visible_and_of_the_right_kind(app, api, acme, globex):
    theirs = add_contact(app, globex, globex.owner_id)
    staff = make_user(app, acme, "staff@acme.example", permissions=["deals.view"])
    response = api.post(DEALS, json={"title": "T", "contact_id": theirs, "account_id": 999999,
                                     "commission_agent_id": staff, "owner_id": 999999})
    assert response.status_code == 422
    assert response.json["errors"] == {
        "contact_id": ["The selected contact id is invalid."],
        "account_id": ["The selected account id is invalid."],
        "owner_id": ["The selected owner id is invalid."],
        "commission_agent_id": ["The selected commission agent id is not a commission agent of this business."],
    }


def test_unknown_fields_are_refused(api):
    response = api.post(DEALS, json={"title": "T", "colour": "red"})
    assert response.status_code == 422
    assert response.json["errors"] == {"colour": ["The colour field is not allowed."]}


# --- lists ---------------------------------------------------------------------------

@pytest.fixture
def several(app, api, acme, stages):
    contact_id = add_contact(app, acme, acme.owner_id)
    seller = make_user(app, acme, "seller@acme.example", permissions=["deals.view", "deals.create"])
    api.post(DEALS, json={"title": "Alpha", "value": 100, "contact_id": contact_id})
    api.post(DEALS, json={"title": "Bravo", "value": 300, "stage_id": stages["Proposal"]["id"], "owner_id": seller})
    c = api.post(DEALS, json={"title": "Charlie", "value": 200}).json["data"]
    api.post(f"{DEALS}/{c['id']}/won")
    return {"contact_id": contact_id, "seller": seller}


def test_filters_sort_search(api, stages, several):
    assert titles(api.get(f"{DEALS}?sort=value")) == ["Alpha", "Charlie", "Bravo"]
    assert titles(api.get(f"{DEALS}?sort=-value")) == ["Bravo", "Charlie", "Alpha"]
    assert titles(api.get(f"{DEALS}?status=won")) == ["Charlie"]
    assert titles(api.get(f"{DEALS}?filter[status]=open,won&sort=title")) == ["Alpha", "Bravo", "Charlie"]
    assert titles(api.get(f"{DEALS}?owner_id={several['seller']}")) == ["Bravo"]
    assert titles(api.get(f"{DEALS}?assign={several['seller']}")) == ["Bravo"]
    assert titles(api.get(f"{DEALS}?owner={several['seller']}")) == ["Bravo"]
    assert titles(api.get(f"{DEALS}?owned=1&sort=title")) == ["Alpha", "Charlie"]
    assert titles(api.get(f"{DEALS}?stage_id={stages['Proposal']['id']}")) == ["Bravo"]
    assert titles(api.get(f"{DEALS}?contact_id={several['contact_id']}")) == ["Alpha"]
    assert titles(api.get(f"{DEALS}?pipeline_id={stages['_pipeline']['id']}&sort=title")) == ["Alpha", "Bravo", "Charlie"]
    assert titles(api.get(f"{DEALS}?q=brav")) == ["Bravo"]  # full-text: words by their start
    assert api.get(f"{DEALS}?status=maybe").status_code == 422
    assert api.get(f"{DEALS}?sort=colour").status_code == 422


def test_custom_field_filter(app, api, acme):
    from app.pipelines.models import CustomField

    with app.app_context(), tenant_scope(acme.business_id):
        db.session.add(CustomField(entity="deal", key="source", label="Source", type="choice", options=["web", "fair"]))
        db.session.commit()
    api.post(DEALS, json={"title": "Web one", "custom_fields": {"source": "web"}})
    api.post(DEALS, json={"title": "Fair one", "custom_fields": {"source": "fair"}})
    assert titles(api.get(f"{DEALS}?custom_fields[source]=fair")) == ["Fair one"]
    response = api.get(f"{DEALS}?custom_fields[colour]=red")
    assert response.status_code == 422
    assert response.json["errors"] == {"custom_fields[colour]": ["There is no deal field named colour."]}
    bad = api.post(DEALS, json={"title": "Bad", "custom_fields": {"source": "tv"}})
    assert bad.status_code == 422 and bad.json["errors"] == {"custom_fields.source": ["The Source must be one of: web, fair."]}


def test_csv_export(api, several):
    response = api.get(f"{DEALS}?format=csv&sort=title")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["title"], r["value"], r["status"]) for r in rows] == [
        ("Alpha", "100.00", "open"), ("Bravo", "300.00", "open"), ("Charlie", "200.00", "won")]


# --- ownership, permissions, tenancy -------------------------------------------------

def test_without_view_all_a_user_sees_only_their_deals(app, api_as, several):
    seller_api = api_as(several["seller"])
    assert titles(seller_api.get(DEALS)) == ["Bravo"]
    alpha = [d for d in api_as(several["seller"]).get(DEALS).json["data"]]
    assert len(alpha) == 1
    created = seller_api.post(DEALS, json={"title": "Mine"}).json["data"]
    assert created["owner_id"] == several["seller"]


def test_someone_elses_deal_is_404_without_view_all(app, api, api_as, acme, several):
    alpha = [d for d in api.get(DEALS).json["data"] if d["title"] == "Alpha"][0]
    seller_api = api_as(several["seller"])
    assert seller_api.get(f"{DEALS}/{alpha['id']}").status_code == 404


def test_a_user_limited_to_selected_contacts_sees_only_their_deals(app, api, api_as, acme, several):
    from app.team.models import User, user_contacts

    viewer = make_user(app, acme, "viewer@acme.example", permissions=["deals.view_all"])
    with app.app_context(), tenant_scope(acme.business_id):
        db.session.get(User, viewer).selected_contacts = True
        db.session.execute(user_contacts.insert().values(user_id=viewer, contact_id=several["contact_id"]))
        db.session.commit()
    assert titles(api_as(viewer).get(DEALS)) == ["Alpha"]


def test_permissions(app, api, api_as, acme, stages):
    deal = api.post(DEALS, json={"title": "A"}).json["data"]
    reader = make_user(app, acme, "reader@acme.example", permissions=["deals.view_all"])
    nobody = make_user(app, acme, "nobody@acme.example", permissions=["contacts.view"])
    assert api_as(nobody).get(DEALS).status_code == 403
    reader_api = api_as(reader)
    assert reader_api.get(f"{DEALS}/{deal['id']}").status_code == 200
    for response in (reader_api.post(DEALS, json={"title": "B"}),
                     reader_api.patch(f"{DEALS}/{deal['id']}", json={"title": "B"}),
                     reader_api.post(f"{DEALS}/{deal['id']}/move-stage", json={"stage_id": stages["Won"]["id"]}),
                     reader_api.delete(f"{DEALS}/{deal['id']}")):
        assert response.status_code == 403 and response.json == {"message": "Unauthorized"}
    limited_token = api_as(acme.owner_id, abilities=["deals.view"])
    assert limited_token.post(DEALS, json={"title": "B"}).status_code == 403


def test_other_business_is_404(api, api_as, globex):
    theirs = api_as(globex.owner_id).post(DEALS, json={"title": "Globex deal"}).json["data"]
    assert api.get(f"{DEALS}/{theirs['id']}").status_code == 404
    assert api.patch(f"{DEALS}/{theirs['id']}", json={"title": "x"}).status_code == 404
    assert api.delete(f"{DEALS}/{theirs['id']}").status_code == 404
    assert api.post(f"{DEALS}/{theirs['id']}/move-stage", json={"stage_id": theirs["stage_id"]}).status_code == 404
    assert api.post(f"{DEALS}/{theirs['id']}/won").status_code == 404
    assert "Globex deal" not in titles(api.get(DEALS))
