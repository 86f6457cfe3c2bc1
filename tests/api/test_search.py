"""/api/v1/search: grouped results, q rules, permissions, tenancy, ownership."""
from app.pipelines.models import Contact
from tests.conftest import make_user
from tests.pipelines.activity_rows import add, records

SEARCH = "/api/v1/search"


def test_results_grouped_by_kind(app, api, acme, globex):
    mine = records(app, acme, owner_id=acme.owner_id)
    records(app, globex, owner_id=globex.owner_id)

    response = api.get(f"{SEARCH}?q=northwind")

    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert set(data) == {"contacts", "leads", "accounts", "deals"}
    assert [c["id"] for c in data["contacts"]] == [mine["contact"]]
    assert data["contacts"][0] == {
        "id": mine["contact"], "name": "Jane Doe", "first_name": "Jane", "last_name": "Doe",
        "email": "jane.doe@northwind.example", "home_phone": None, "work_phone": None,
        "mobile_phone": "+441174960123", "account_id": mine["account"], "owner_id": acme.owner_id}
    assert [a["name"] for a in data["accounts"]] == ["Northwind Traders"]
    assert data["leads"] == [] and data["deals"] == []
    deal = api.get(f"{SEARCH}?q=garden").json["data"]["deals"][0]
    assert (deal["title"], deal["value"], deal["id"]) == ("Garden makeover", "0.00", mine["deal"])
    assert api.get(f"{SEARCH}?q=velvet").json["data"]["leads"][0]["company_name"] == "Velvet Ltd"


def test_q_is_required_and_at_least_two_characters(api):
    assert api.get(f"{SEARCH}?q=j").json == {"message": "The q field must be at least 2 characters.",
                                             "errors": {"q": ["The q field must be at least 2 characters."]}}
    assert api.get(SEARCH).json == {"message": "The q field is required.",
                                    "errors": {"q": ["The q field is required."]}}
    assert api.get(f"{SEARCH}?q=ab&limit=0").status_code == 422


def test_limit_per_kind(app, api, acme):
    add(app, acme, *(Contact(first_name=f"Sam{n}", last_name="Smith") for n in range(8)))
    assert len(api.get(f"{SEARCH}?q=smith").json["data"]["contacts"]) == 5
    assert len(api.get(f"{SEARCH}?q=smith&limit=7").json["data"]["contacts"]) == 7


def test_syntax_characters_are_not_errors(app, api, acme):
    records(app, acme, owner_id=acme.owner_id)
    for q in ['""', 'ja*', 'jane OR', '-doe', 'NEAR(a b)', "o'neil", "a:*&b"]:
        response = api.get(SEARCH, query_string={"q": q})
        assert response.status_code == 200, (q, response.json)


def test_permission_and_ownership(app, api_as, acme):
    records(app, acme, owner_id=acme.owner_id)
    nobody = make_user(app, acme, "nobody@acme.example", permissions=["activities.view"])
    assert api_as(nobody).get(f"{SEARCH}?q=jane").json == {"message": "Unauthorized"}
    rep = make_user(app, acme, "rep@acme.example", permissions=["contacts.view"])
    add(app, acme, Contact(first_name="Jane", last_name="Rep", owner_id=rep))
    data = api_as(rep).get(f"{SEARCH}?q=jane").json["data"]
    assert [c["name"] for c in data["contacts"]] == ["Jane Rep"]
    assert data["accounts"] == [] and data["deals"] == []


def test_another_business_sees_nothing_of_ours(app, api_as, acme, globex):
    records(app, acme, owner_id=acme.owner_id)
    data = api_as(globex.owner_id).get(f"{SEARCH}?q=jane").json["data"]
    assert data == {"contacts": [], "leads": [], "accounts": [], "deals": []}
