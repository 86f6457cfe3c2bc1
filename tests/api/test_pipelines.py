"""/api/v1/pipelines: list with stages, pipeline and stage CRUD, reorder, delete rules."""
import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.conftest import make_user

PIPELINES = "/api/v1/pipelines"
DEFAULT_STAGES = [("Qualified", 10, "open", 14), ("Contact made", 20, "open", 14), ("Proposal", 50, "open", 21),
                  ("Negotiation", 80, "open", 14), ("Won", 100, "won", None), ("Lost", 0, "lost", None)]


def stage_tuples(pipeline: dict) -> list[tuple]:
    return [(s["name"], s["probability"], s["kind"], s["rotting_days"]) for s in pipeline["stages"]]


@pytest.fixture
def sales(api) -> dict:
    response = api.get(PIPELINES)
    assert response.status_code == 200, response.json
    return response.json["data"][0]


def test_list_has_the_default_pipeline_with_its_stages(api, sales):
    response = api.get(PIPELINES)
    assert response.json["meta"]["total"] == 1
    assert sales["name"] == "Sales" and sales["is_default"] is True
    assert stage_tuples(sales) == DEFAULT_STAGES
    assert [s["position"] for s in sales["stages"]] == [0, 1, 2, 3, 4, 5]
    assert all(s["pipeline_id"] == sales["id"] and s["created_at"].endswith("Z") for s in sales["stages"])


def test_list_as_csv(api, sales):
    response = api.get(f"{PIPELINES}?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffid,name,is_default,position,stages,created_at,updated_at")
    assert "Sales" in text and "Contact made" in text


def test_create_pipeline_with_default_stages(api, sales):
    response = api.post(PIPELINES, json={"name": "Renewals"})
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert response.headers["Location"].endswith(f"{PIPELINES}/{data['id']}")
    assert data["is_default"] is False and stage_tuples(data) == DEFAULT_STAGES
    assert api.get(PIPELINES).json["meta"]["total"] == 2


def test_create_pipeline_with_its_own_stages(api):
    response = api.post(PIPELINES, json={"name": "Events", "stages": [
        {"name": "Enquiry", "probability": 5, "rotting_days": 3}, {"name": "Booked", "probability": 100, "kind": "won"}]})
    assert response.status_code == 201, response.json
    assert stage_tuples(response.json["data"]) == [("Enquiry", 5, "open", 3), ("Booked", 100, "won", None)]


def test_create_pipeline_422(api):
    response = api.post(PIPELINES, json={"name": ""})
    assert response.status_code == 422
    assert response.json == {"message": "The name field is required.", "errors": {"name": ["The name field is required."]}}
    response = api.post(PIPELINES, json={"name": "X", "stages": [{"name": "A", "probability": 101}]})
    assert response.status_code == 422
    assert response.json["errors"] == {"stages.0.probability": ["The probability must be a whole number between 0 and 100."]}


def test_rename_and_make_default(api, sales):
    other = api.post(PIPELINES, json={"name": "Renewals"}).json["data"]
    response = api.patch(f"{PIPELINES}/{other['id']}", json={"name": "Renewals 2027", "is_default": True})
    assert response.status_code == 200, response.json
    assert response.json["data"]["is_default"] is True and response.json["data"]["name"] == "Renewals 2027"
    assert api.get(f"{PIPELINES}/{sales['id']}").json["data"]["is_default"] is False
    put = api.put(f"{PIPELINES}/{sales['id']}", json={"name": "Sales (old)"})
    assert put.status_code == 200 and put.json["data"]["name"] == "Sales (old)"


def test_the_default_cannot_be_unset_or_deleted(api, sales):
    response = api.patch(f"{PIPELINES}/{sales['id']}", json={"is_default": False})
    assert response.status_code == 422
    assert response.json["errors"] == {"is_default": ["Make another pipeline the default instead: a business always has one."]}
    response = api.delete(f"{PIPELINES}/{sales['id']}")
    assert response.status_code == 409
    assert response.json == {"message": "The default pipeline cannot be deleted. Make another pipeline the default first."}


def test_a_pipeline_with_deals_cannot_be_deleted(api):
    other = api.post(PIPELINES, json={"name": "Renewals"}).json["data"]
    api.post("/api/v1/deals", json={"title": "Renewal", "pipeline_id": other["id"]})
    response = api.delete(f"{PIPELINES}/{other['id']}")
    assert response.status_code == 409
    assert response.json["message"] == "The pipeline \u201cRenewals\u201d holds 1 deal. Move or delete them first."


def test_delete_pipeline(api):
    other = api.post(PIPELINES, json={"name": "Spare"}).json["data"]
    assert api.delete(f"{PIPELINES}/{other['id']}", headers={"If-Match": '"1"'}).status_code == 204
    assert api.get(f"{PIPELINES}/{other['id']}").status_code == 404


def test_stale_if_match_is_412(api, sales):
    api.patch(f"{PIPELINES}/{sales['id']}", json={"name": "Sales 1"})
    response = api.patch(f"{PIPELINES}/{sales['id']}", json={"name": "Sales 2"}, headers={"If-Match": '"1"'})
    assert response.status_code == 412


# --- stages --------------------------------------------------------------------------

def test_add_a_stage_at_a_position(api, sales):
    url = f"{PIPELINES}/{sales['id']}/stages"
    response = api.post(url, json={"name": "Demo booked", "probability": 35, "rotting_days": 7, "position": 2})
    assert response.status_code == 201, response.json
    stage = response.json["data"]
    assert response.headers["Location"].endswith(f"{url}/{stage['id']}")
    assert (stage["name"], stage["probability"], stage["kind"], stage["position"]) == ("Demo booked", 35, "open", 2)
    names = [s["name"] for s in api.get(f"{PIPELINES}/{sales['id']}").json["data"]["stages"]]
    assert names == ["Qualified", "Contact made", "Demo booked", "Proposal", "Negotiation", "Won", "Lost"]
    assert api.get(f"{url}/{stage['id']}").json["data"] == stage


def test_stage_422(api, sales):
    url = f"{PIPELINES}/{sales['id']}/stages"
    response = api.post(url, json={"name": "X", "probability": 150, "kind": "maybe", "rotting_days": 0})
    assert response.status_code == 422
    assert response.json["errors"] == {
        "probability": ["The probability must be a whole number between 0 and 100."],
        "kind": ["The kind must be one of: open, won, lost."],
        "rotting_days": ["The rotting days must be a whole number between 1 and 3650, or empty."],
    }


def test_update_stage_put_and_patch(api, sales):
    stage = sales["stages"][0]
    url = f"{PIPELINES}/{sales['id']}/stages/{stage['id']}"
    response = api.patch(url, json={"probability": 15}, headers={"If-Match": '"1"'})
    assert response.status_code == 200 and response.json["data"]["probability"] == 15
    assert response.json["data"]["rotting_days"] == 14
    response = api.put(url, json={"name": "Lead in"})
    assert response.status_code == 200
    assert (response.json["data"]["name"], response.json["data"]["probability"], response.json["data"]["rotting_days"]) \
        == ("Lead in", 0, None)


def test_reorder_stages(api, sales):
    ids = [s["id"] for s in sales["stages"]]
    new_order = ids[1:] + ids[:1]
    response = api.post(f"{PIPELINES}/{sales['id']}/stages/reorder", json={"stage_ids": new_order})
    assert response.status_code == 200, response.json
    assert [s["id"] for s in response.json["data"]["stages"]] == new_order
    assert [s["position"] for s in response.json["data"]["stages"]] == list(range(6))
    bad = api.post(f"{PIPELINES}/{sales['id']}/stages/reorder", json={"stage_ids": ids[:2]})
    assert bad.status_code == 422
    assert bad.json["errors"] == {"stage_ids": ["The stage ids must list every stage of this pipeline once."]}


def test_delete_a_stage_holding_deals(api, sales):
    qualified, proposal = sales["stages"][0], sales["stages"][2]
    deal = api.post("/api/v1/deals", json={"title": "Held", "stage_id": qualified["id"]}).json["data"]
    url = f"{PIPELINES}/{sales['id']}/stages/{qualified['id']}"
    response = api.delete(url)
    assert response.status_code == 409
    assert response.json["message"] == ("The stage \u201cQualified\u201d holds 1 deal."
                                        " Choose a stage to move them to, then delete it.")
    assert api.delete(f"{url}?move_deals_to=999999").status_code == 422
    assert api.delete(f"{url}?move_deals_to={proposal['id']}").status_code == 204
    moved = api.get(f"/api/v1/deals/{deal['id']}").json["data"]
    assert moved["stage_id"] == proposal["id"] and moved["position"] == 0
    assert [s["position"] for s in api.get(f"{PIPELINES}/{sales['id']}").json["data"]["stages"]] == list(range(5))


def test_delete_an_empty_stage(api, sales):
    stage = sales["stages"][1]
    assert api.delete(f"{PIPELINES}/{sales['id']}/stages/{stage['id']}").status_code == 204


def test_a_stage_of_another_pipeline_is_404(api, sales):
    other = api.post(PIPELINES, json={"name": "Renewals"}).json["data"]
    stage = sales["stages"][0]
    assert api.get(f"{PIPELINES}/{other['id']}/stages/{stage['id']}").status_code == 404
    assert api.patch(f"{PIPELINES}/{other['id']}/stages/{stage['id']}", json={"name": "x"}).status_code == 404


# --- permissions and tenancy ---------------------------------------------------------

def test_reading_needs_a_deals_permission_and_writing_pipelines_manage(app, api_as, acme, sales):
    nobody = make_user(app, acme, "nobody@acme.example", permissions=["contacts.view"])
    seller = make_user(app, acme, "seller@acme.example", permissions=["deals.view"])
    assert api_as(nobody).get(PIPELINES).status_code == 403
    assert api_as(seller).get(PIPELINES).status_code == 200
    response = api_as(seller).post(PIPELINES, json={"name": "Mine"})
    assert response.status_code == 403 and response.json == {"message": "Unauthorized"}
    assert api_as(seller).patch(f"{PIPELINES}/{sales['id']}/stages/{sales['stages'][0]['id']}",
                                json={"name": "x"}).status_code == 403


def test_other_business_is_404(api, api_as, globex, sales):
    theirs = api_as(globex.owner_id).get(PIPELINES).json["data"][0]
    assert theirs["id"] != sales["id"]
    assert api.get(f"{PIPELINES}/{theirs['id']}").status_code == 404
    assert api.patch(f"{PIPELINES}/{theirs['id']}", json={"name": "Mine"}).status_code == 404
    assert api.delete(f"{PIPELINES}/{theirs['id']}/stages/{theirs['stages'][0]['id']}").status_code == 404
    assert api.post(f"{PIPELINES}/{theirs['id']}/stages", json={"name": "x"}).status_code == 404


def test_a_business_made_before_pipelines_gets_one_on_first_read(app, api, acme):
    from app.pipelines.models import Pipeline

    with app.app_context(), tenant_scope(acme.business_id):
        for pipeline in db.session.scalars(select(Pipeline)):
            db.session.delete(pipeline)
        db.session.commit()
    response = api.get(PIPELINES)
    assert [p["name"] for p in response.json["data"]] == ["Sales"]
