"""/api/v1/commission-agents (seed 002): CRUD, percent parsing, permissions, tenancy, lists, CSV."""
import csv
import io
import json
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from app.core.models import isoformat
from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.conftest import make_token, make_user

AGENTS = "/api/v1/commission-agents"
NOT_FOUND = {"message": "Not found"}
UNAUTHORIZED = {"message": "Unauthorized"}
CSV_HEADER = "id,full_name,email,contact_no,address,cmmsn_percent,status,created_at"
FULL = {
    "surname": "Ms", "first_name": "Jane", "last_name": "Doe", "email": "jane@agents.example",
    "contact_no": "+44 7700 900000", "address": "1 High Street, Bath", "cmmsn_percent": 12.5,
}


# --- helpers -------------------------------------------------------------------------

def add_agents(app, tenant, *rows: dict) -> list[int]:
    """Insert commission agents for `tenant` straight into the database; returns their ids."""
    from app.team.models import User

    with app.app_context(), tenant_scope(tenant.business_id):
        agents = [User(**{"allow_login": False, "is_cmmsn_agnt": True, "status": "active", **row}) for row in rows]
        db.session.add_all(agents)
        db.session.commit()
        return [agent.id for agent in agents]


def user_row(app, user_id: int):
    """The users row as stored, from any business (None when there is none)."""
    from app.team.models import User

    with app.app_context():
        row = db.session.scalar(select(User).where(User.id == user_id).execution_options(all_tenants=True))
        if row is not None:
            db.session.expunge(row)
        return row


def set_separator(app, tenant, separator: str) -> None:
    from app.team.models import Business

    with app.app_context():
        db.session.execute(update(Business).where(Business.id == tenant.business_id)
                           .values(decimal_separator=separator))
        db.session.commit()


def events(app, name: str) -> list[dict]:
    from app.core.events import OutboxEvent

    with app.app_context():
        return [e.payload for e in db.session.scalars(select(OutboxEvent).where(OutboxEvent.name == name)
                                                      .order_by(OutboxEvent.id))]


def percent(value):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def expected(app, agent_id: int) -> dict:
    """The API's CommissionAgentDetail of a stored agent."""
    row = user_row(app, agent_id)
    return {
        "id": row.id, "surname": row.surname, "first_name": row.first_name, "last_name": row.last_name,
        "full_name": row.full_name, "email": row.email, "contact_no": row.contact_number, "address": row.address,
        "cmmsn_percent": percent(row.cmmsn_percent), "status": row.status, "allow_login": False,
        "is_commission_agent": True, "created_at": isoformat(row.created_at), "updated_at": isoformat(row.updated_at),
    }


def list_item(app, agent_id: int) -> dict:
    detail = expected(app, agent_id)
    return {k: detail[k] for k in ("id", "full_name", "email", "contact_no", "address", "cmmsn_percent", "status",
                                   "created_at")}


def invalid(field: str, message: str) -> dict:
    return {"message": message, "errors": {field: [message]}}


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [row["full_name"] for row in response.json["data"]]


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def agent_id(app, acme):
    return add_agents(app, acme, {"first_name": "Jane", "last_name": "Doe", "email": "jane@agents.example",
                                  "contact_number": "0123", "cmmsn_percent": Decimal("12.50")})[0]


# --- create --------------------------------------------------------------------------

def test_create_agent(app, api, acme):
    response = api.post(AGENTS, json=FULL)

    assert response.status_code == 201, response.json
    agent_id = response.json["data"]["id"]
    assert response.headers["Location"].endswith(f"/api/v1/commission-agents/{agent_id}")
    data = response.json["data"]
    assert response.json == {"message": "Created", "data": {
        "id": agent_id, **FULL, "full_name": "Ms Jane Doe", "status": "active", "allow_login": False,
        "is_commission_agent": True, "created_at": data["created_at"], "updated_at": data["updated_at"],
    }}
    assert response.json["data"] == expected(app, agent_id)
    row = user_row(app, agent_id)
    assert row.business_id == acme.business_id
    assert row.cmmsn_percent == Decimal("12.50")
    assert (row.is_cmmsn_agnt, row.allow_login, row.status) == (True, False, "active")
    assert (row.username, row.password_hash, row.role_id, row.deleted_at) == (None, None, None, None)
    assert row.language == "en"
    assert events(app, "agent.created") == [{"id": agent_id, "name": "Ms Jane Doe"}]


def test_create_with_the_required_fields_only(app, api):
    response = api.post(AGENTS, json={"first_name": "  Raj  ", "cmmsn_percent": "5"})

    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert data == expected(app, data["id"])
    assert {k: data[k] for k in FULL} == dict.fromkeys(FULL) | {"first_name": "Raj", "cmmsn_percent": 5}


def test_create_keeps_the_language(app, api):
    response = api.post(AGENTS, json={"first_name": "Rémi", "cmmsn_percent": 3, "language": "fr"})
    assert response.status_code == 201
    assert user_row(app, response.json["data"]["id"]).language == "fr"
    response = api.post(AGENTS, json={"first_name": "Ann", "cmmsn_percent": 3, "language": None})
    assert user_row(app, response.json["data"]["id"]).language == "en"


def test_blank_optional_fields_are_stored_as_null(app, api):
    response = api.post(AGENTS, json={"first_name": "Ann", "cmmsn_percent": 1, "email": "", "address": "  "})
    assert response.status_code == 201
    row = user_row(app, response.json["data"]["id"])
    assert (row.email, row.address) == (None, None)


def test_email_is_normalized(app, api):
    response = api.post(AGENTS, json={"first_name": "Ann", "cmmsn_percent": 1, "email": "ann@AGENTS.example"})
    assert response.json["data"]["email"] == "ann@agents.example"


@pytest.mark.parametrize("body, errors", [
    ({}, {"first_name": ["The first name field is required."],
          "cmmsn_percent": ["The cmmsn percent field is required."]}),
    ({"cmmsn_percent": 5}, {"first_name": ["The first name field is required."]}),
    ({"first_name": "", "cmmsn_percent": 5}, {"first_name": ["The first name field is required."]}),
    ({"first_name": "   ", "cmmsn_percent": 5}, {"first_name": ["The first name field is required."]}),
    ({"first_name": None, "cmmsn_percent": 5}, {"first_name": ["The first name field may not be null."]}),
    ({"first_name": "Ann"}, {"cmmsn_percent": ["The cmmsn percent field is required."]}),
    ({"first_name": "Ann", "cmmsn_percent": ""}, {"cmmsn_percent": ["The cmmsn percent field is required."]}),
    ({"first_name": "Ann", "cmmsn_percent": "  "}, {"cmmsn_percent": ["The cmmsn percent field is required."]}),
    ({"first_name": "Ann", "cmmsn_percent": None}, {"cmmsn_percent": ["The cmmsn percent field may not be null."]}),
])
def test_required_fields(app, api, body, errors):
    response = api.post(AGENTS, json=body)
    assert response.status_code == 422
    assert response.json["errors"] == errors
    messages = [m for ms in errors.values() for m in ms]
    assert response.json["message"].startswith(messages[0])
    assert names(api.get(AGENTS)) == []


@pytest.mark.parametrize("field, limit, label", [
    ("surname", 30, "surname"), ("first_name", 120, "first name"), ("last_name", 120, "last name"),
    ("contact_no", 40, "contact no"), ("address", 500, "address"), ("language", 10, "language"),
])
def test_too_long_fields_are_422(api, field, limit, label):
    body = {"first_name": "Ann", "cmmsn_percent": 1, field: "x" * (limit + 1)}
    response = api.post(AGENTS, json=body)
    assert response.status_code == 422
    assert response.json == invalid(field, f"The {label} may not be greater than {limit} characters.")
    assert api.post(AGENTS, json=body | {field: "x" * limit}).status_code == 201


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.example", "two@@b.example"])
def test_invalid_email_is_422(api, agent_id, email):
    response = api.post(AGENTS, json={"first_name": "Ann", "cmmsn_percent": 1, "email": email})
    assert response.status_code == 422
    assert response.json == invalid("email", "The email must be a valid email address.")
    response = api.patch(f"{AGENTS}/{agent_id}", json={"email": email})
    assert response.json == invalid("email", "The email must be a valid email address.")


@pytest.mark.parametrize("field, label", [
    ("colour", "colour"), ("id", "id"), ("business_id", "business id"), ("is_cmmsn_agnt", "is cmmsn agnt"),
    ("is_commission_agent", "is commission agent"), ("allow_login", "allow login"), ("status", "status"),
    ("password", "password"), ("username", "username"), ("role_id", "role id"), ("contact_number", "contact number"),
])
def test_unknown_fields_are_422(app, api, agent_id, field, label):
    response = api.post(AGENTS, json={"first_name": "Ann", "cmmsn_percent": 1, field: True})
    assert response.status_code == 422
    assert response.json == invalid(field, f"The {label} field is not allowed.")
    for method in ("patch", "put"):
        response = getattr(api, method)(f"{AGENTS}/{agent_id}", json={field: True})
        assert response.status_code == 422
        assert response.json == invalid(field, f"The {label} field is not allowed.")
    row = user_row(app, agent_id)
    assert (row.allow_login, row.status, row.is_cmmsn_agnt) == (False, "active", True)


def test_language_is_only_set_on_create(api, agent_id):
    response = api.patch(f"{AGENTS}/{agent_id}", json={"language": "fr"})
    assert response.json == invalid("language", "The language field is not allowed.")


@pytest.mark.parametrize("body", [[{"first_name": "Ann"}], "Ann", 42])
def test_body_that_is_not_an_object_is_422(api, body):
    response = api.post(AGENTS, json=body)
    assert response.status_code == 422
    assert response.json["message"] == "The request body must be a JSON object."


# --- commission percent --------------------------------------------------------------

NOT_A_NUMBER = "The cmmsn percent must be a number, such as {example}."
THOUSANDS = "The cmmsn percent must not contain thousands separators; write it like {example}."
RANGE = "The cmmsn percent must be between 0 and 100."
PLACES = "The cmmsn percent may not have more than 2 decimal places."

PERCENT_TABLE = [
    # (sent, stored or the error)
    ("12.5", Decimal("12.5")),
    ("12,5", Decimal("12.5")),
    (" 7 ", Decimal("7")),
    ("0", Decimal("0")),
    ("-0", Decimal("0")),
    ("100", Decimal("100")),
    ("100.00", Decimal("100")),
    ("100,00", Decimal("100")),
    ("0,01", Decimal("0.01")),
    (".5", Decimal("0.5")),
    (",5", Decimal("0.5")),
    ("+3", Decimal("3")),
    ("007.10", Decimal("7.1")),
    ("1,000", PLACES),  # never guessed: a thousand, or one?
    ("1.000", PLACES),
    ("12,345", PLACES),
    ("1,234.5", THOUSANDS),
    ("1.234,5", THOUSANDS),
    ("1,2,3", THOUSANDS),
    ("1.2.3", THOUSANDS),
    ("100.01", RANGE),
    ("100,5", RANGE),
    ("-1", RANGE),
    ("-0,01", RANGE),
    ("abc", NOT_A_NUMBER),
    ("12%", NOT_A_NUMBER),
    ("1e2", NOT_A_NUMBER),
    ("12.", NOT_A_NUMBER),
    ("12,", NOT_A_NUMBER),
    ("1 000", NOT_A_NUMBER),
    ("NaN", NOT_A_NUMBER),
    ("Infinity", NOT_A_NUMBER),
    ("١٢", NOT_A_NUMBER),  # Arabic-Indic digits: not what the web form takes either
    (12.5, Decimal("12.5")),
    (10, Decimal("10")),
    (0, Decimal("0")),
    (100, Decimal("100")),
    (99.99, Decimal("99.99")),
    (0.1, Decimal("0.1")),
    (1e2, Decimal("100")),
    (12.345, PLACES),
    (100.5, RANGE),
    (-0.5, RANGE),
    (10 ** 30, RANGE),
    (True, NOT_A_NUMBER),
    ([12], NOT_A_NUMBER),
    ({"value": 12}, NOT_A_NUMBER),
]


@pytest.mark.parametrize("separator, example", [(".", "12.5"), (",", "12,5")])
@pytest.mark.parametrize("sent, outcome", PERCENT_TABLE)
def test_percent_parsing(app, api, acme, separator, example, sent, outcome):
    set_separator(app, acme, separator)

    response = api.post(AGENTS, json={"first_name": "Ann", "cmmsn_percent": sent})

    if isinstance(outcome, Decimal):
        assert response.status_code == 201, response.json
        assert user_row(app, response.json["data"]["id"]).cmmsn_percent == outcome
        assert response.json["data"]["cmmsn_percent"] == float(outcome)
        assert isinstance(response.json["data"]["cmmsn_percent"], (int, float))
    else:
        assert response.status_code == 422
        assert response.json == invalid("cmmsn_percent", outcome.format(example=example))


@pytest.mark.parametrize("sent, outcome", [("2,75", Decimal("2.75")), ("1.234,5", THOUSANDS), (101, RANGE)])
def test_percent_parsing_on_update(app, api, acme, agent_id, sent, outcome):
    set_separator(app, acme, ",")
    response = api.patch(f"{AGENTS}/{agent_id}", json={"cmmsn_percent": sent})
    if isinstance(outcome, Decimal):
        assert response.status_code == 200
        assert user_row(app, agent_id).cmmsn_percent == outcome
    else:
        assert response.json == invalid("cmmsn_percent", outcome.format(example="12,5"))
        assert user_row(app, agent_id).cmmsn_percent == Decimal("12.5")


def test_nan_in_the_json_body_is_422_not_500(api):
    response = api.post(AGENTS, data='{"first_name": "Ann", "cmmsn_percent": NaN}',
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json == invalid("cmmsn_percent", NOT_A_NUMBER.format(example="12.5"))


def test_percent_is_a_json_number_in_answers(app, api, acme):
    (whole, fraction) = add_agents(app, acme, {"first_name": "A", "cmmsn_percent": Decimal("10.00")},
                                   {"first_name": "B", "cmmsn_percent": Decimal("2.50")})
    assert '"cmmsn_percent": 10,' in api.get(f"{AGENTS}/{whole}").get_data(as_text=True).replace('":10', '": 10')
    assert isinstance(api.get(f"{AGENTS}/{whole}").json["data"]["cmmsn_percent"], int)
    assert api.get(f"{AGENTS}/{fraction}").json["data"]["cmmsn_percent"] == 2.5


# --- read ----------------------------------------------------------------------------

def test_get_agent(app, api, agent_id):
    response = api.get(f"{AGENTS}/{agent_id}")
    assert response.status_code == 200
    assert response.json == {"data": expected(app, agent_id)}
    assert response.json["data"]["full_name"] == "Jane Doe"
    assert response.json["data"]["created_at"].endswith("Z")


def test_one_agent_as_csv(app, api, acme):
    (agent_id,) = add_agents(app, acme, {"first_name": "=cmd|' /C calc'!A0", "cmmsn_percent": Decimal("5")})

    response = api.get(f"{AGENTS}/{agent_id}?format=csv")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="commission-agent-{agent_id}.csv"'
    header, row = read_csv(response)
    assert header == ["id", "surname", "first_name", "last_name", "full_name", "email", "contact_no", "address",
                      "cmmsn_percent", "status", "allow_login", "is_commission_agent", "created_at", "updated_at",
                      "data_json"]
    assert row[2] == "'=cmd|' /C calc'!A0"
    assert row[8:12] == ["5", "active", "0", "1"]
    assert json.loads(row[-1]) == expected(app, agent_id)


# --- update --------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_changes_only_what_is_sent(app, api, agent_id, method):
    """PATCH and PUT are both partial (seed 002)."""
    before = expected(app, agent_id)

    response = getattr(api, method)(f"{AGENTS}/{agent_id}", json={"last_name": "Smith", "cmmsn_percent": "7,25"})

    assert response.status_code == 200, response.json
    assert response.json == {"message": "Updated", "data": expected(app, agent_id)}
    data = response.json["data"]
    assert (data["last_name"], data["full_name"], data["cmmsn_percent"]) == ("Smith", "Jane Smith", 7.25)
    assert (data["email"], data["contact_no"], data["first_name"]) == (before["email"], "0123", "Jane")
    assert events(app, "agent.updated") == [{"id": agent_id, "name": "Jane Smith"}]


@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_with_empty_body_changes_nothing(app, api, agent_id, method):
    before = expected(app, agent_id)
    response = getattr(api, method)(f"{AGENTS}/{agent_id}", json={})
    assert response.status_code == 200
    assert {k: v for k, v in response.json["data"].items() if k != "updated_at"} == \
        {k: v for k, v in before.items() if k != "updated_at"}


def test_update_can_clear_optional_fields(app, api, agent_id):
    response = api.patch(f"{AGENTS}/{agent_id}", json={"email": None, "contact_no": "", "cmmsn_percent": None})
    assert response.status_code == 200
    row = user_row(app, agent_id)
    assert (row.email, row.contact_number, row.cmmsn_percent, row.first_name) == (None, None, None, "Jane")
    assert response.json["data"]["cmmsn_percent"] is None


@pytest.mark.parametrize("body, message", [
    ({"first_name": ""}, "The first name field is required."),
    ({"first_name": "  "}, "The first name field is required."),
    ({"first_name": None}, "The first name field may not be null."),
    ({"first_name": 7}, "The first name must be a string."),
])
def test_update_keeps_the_first_name_required(app, api, agent_id, body, message):
    response = api.put(f"{AGENTS}/{agent_id}", json=body)
    assert response.status_code == 422
    assert response.json == invalid("first_name", message)
    assert user_row(app, agent_id).first_name == "Jane"


def test_contact_no_maps_to_the_contact_number(app, api, agent_id):
    response = api.patch(f"{AGENTS}/{agent_id}", json={"contact_no": " 555 "})
    assert response.json["data"]["contact_no"] == "555"
    assert user_row(app, agent_id).contact_number == "555"
    response = api.patch(f"{AGENTS}/{agent_id}", json={"contact_no": "5" * 41})
    assert response.json == invalid("contact_no", "The contact no may not be greater than 40 characters.")


# --- delete --------------------------------------------------------------------------

def test_delete_is_a_soft_delete(app, api, agent_id):
    response = api.delete(f"{AGENTS}/{agent_id}")

    assert response.status_code == 200
    assert response.json == {"message": "Deleted", "data": {"id": agent_id}}
    row = user_row(app, agent_id)
    assert row is not None and row.deleted_at is not None
    assert (row.first_name, row.is_cmmsn_agnt) == ("Jane", True)
    assert events(app, "agent.deleted") == [{"id": agent_id, "name": "Jane Doe"}]
    url = f"{AGENTS}/{agent_id}"
    for response in (api.get(url), api.put(url, json={"first_name": "X"}), api.patch(url, json={}),
                     api.delete(url), api.get(f"{url}?format=csv")):
        assert response.status_code == 404
        assert response.json == NOT_FOUND
    assert names(api.get(AGENTS)) == []
    assert api.get(f"{AGENTS}?status=active").json["meta"]["total"] == 0
    assert read_csv(api.get(f"{AGENTS}?format=csv")) == [CSV_HEADER.split(",")]


@pytest.mark.parametrize("agent_id", ["424242", "0", "2147483648", "99999999999999999999999", "-1", "1.5", "abc"])
def test_unknown_id_is_404(api, agent_id):
    url = f"{AGENTS}/{agent_id}"
    for response in (api.get(url), api.put(url, json={"first_name": "X"}), api.patch(url, json={}), api.delete(url)):
        assert response.status_code == 404
        assert response.json == NOT_FOUND


# --- staff users and agents stay apart -----------------------------------------------

def test_staff_users_are_never_agents(app, api, acme, agent_id):
    staff = make_user(app, acme, "staff@acme.example", permissions=["user.view"], cmmsn_percent=Decimal("3"))

    assert names(api.get(AGENTS)) == ["Jane Doe"]
    assert api.get(AGENTS).json["meta"]["total"] == 1
    assert names(api.get(f"{AGENTS}?q=staff")) == []
    assert names(api.get(f"{AGENTS}?q=owner")) == []
    assert [row[0] for row in read_csv(api.get(f"{AGENTS}?format=csv"))[1:]] == [str(agent_id)]
    for user_id in (staff, acme.owner_id):
        url = f"{AGENTS}/{user_id}"
        for response in (api.get(url), api.put(url, json={"first_name": "X"}), api.patch(url, json={"address": "X"}),
                         api.delete(url)):
            assert response.status_code == 404
            assert response.json == NOT_FOUND
        row = user_row(app, user_id)
        assert row.deleted_at is None and row.address is None and row.is_cmmsn_agnt is False


def test_an_agent_is_no_staff_user(app, acme, agent_id, owner_browser):
    """Not on the staff list, and no API tokens can be made for one (it never signs in)."""
    page = owner_browser.get("/team/users").get_data(as_text=True)
    assert "Jane" not in page
    assert owner_browser.get(f"/team/users/{agent_id}/tokens").status_code == 404


# --- permissions ---------------------------------------------------------------------

def _calls(agent_id):
    return {
        "list": ("get", AGENTS, None),
        "csv": ("get", f"{AGENTS}?format=csv", None),
        "show": ("get", f"{AGENTS}/{agent_id}", None),
        "show_csv": ("get", f"{AGENTS}/{agent_id}?format=csv", None),
        "create": ("post", AGENTS, {"first_name": "New", "cmmsn_percent": 1}),
        "put": ("put", f"{AGENTS}/{agent_id}", {"first_name": "Renamed"}),
        "patch": ("patch", f"{AGENTS}/{agent_id}", {"first_name": "Renamed"}),
        "delete": ("delete", f"{AGENTS}/{agent_id}", None),
    }


NEEDS = {
    "list": {"user.view", "user.create"}, "csv": {"user.view", "user.create"},
    "show": {"user.view", "user.create"}, "show_csv": {"user.view", "user.create"},
    "create": {"user.create"}, "put": {"user.update"}, "patch": {"user.update"}, "delete": {"user.delete"},
}
ALL_USER_PERMISSIONS = ["user.view", "user.create", "user.update", "user.delete"]


def _send(client, call, agent_id):
    method, url, body = _calls(agent_id)[call]
    return getattr(client, method)(url, json=body) if body else getattr(client, method)(url)


def _unchanged(app, agent_id):
    row = user_row(app, agent_id)
    assert (row.first_name, row.deleted_at) == ("Jane", None)


@pytest.mark.parametrize("call", list(NEEDS))
@pytest.mark.parametrize("permission", ALL_USER_PERMISSIONS + ["locations.view"])
def test_each_call_needs_its_permission(app, api_as, acme, agent_id, call, permission):
    """A user holding just `permission`: allowed exactly where the seed says."""
    user = make_user(app, acme, f"{permission}@acme.example", permissions=[permission])

    response = _send(api_as(user), call, agent_id)

    if permission in NEEDS[call]:
        assert response.status_code in (200, 201), response.get_data(as_text=True)
    else:
        assert response.status_code == 403
        assert response.json == UNAUTHORIZED
        _unchanged(app, agent_id)
        assert len(names(api_as(acme.owner_id).get(AGENTS))) == 1


@pytest.mark.parametrize("call", list(NEEDS))
@pytest.mark.parametrize("ability", ALL_USER_PERMISSIONS)
def test_token_abilities_narrow_an_admin(app, api_as, acme, agent_id, call, ability):
    """The Admin's token with a single ability: only what that ability allows."""
    response = _send(api_as(acme.owner_id, abilities=[ability]), call, agent_id)
    if ability in NEEDS[call]:
        assert response.status_code in (200, 201), response.get_data(as_text=True)
    else:
        assert response.status_code == 403
        assert response.json == UNAUTHORIZED
        _unchanged(app, agent_id)


def test_token_without_user_abilities_is_403_even_with_the_role(app, api_as, acme, agent_id):
    user = make_user(app, acme, "all@acme.example", permissions=ALL_USER_PERMISSIONS + ["locations.view"])
    client = api_as(user, abilities=["locations.view"])
    for call in NEEDS:
        response = _send(client, call, agent_id)
        assert response.status_code == 403
        assert response.json == UNAUTHORIZED
    _unchanged(app, agent_id)
    assert api_as(user).get(f"{AGENTS}/{agent_id}").status_code == 200


def test_permission_is_checked_before_existence(app, api_as, acme):
    user = make_user(app, acme, "nobody@acme.example", permissions=[])
    for response in (api_as(user).get(f"{AGENTS}/424242"), api_as(user).delete(f"{AGENTS}/424242")):
        assert response.status_code == 403
        assert response.json == UNAUTHORIZED


# --- tenancy -------------------------------------------------------------------------

def test_agent_of_another_business_is_404(app, api, acme, globex):
    (globex_id,) = add_agents(app, globex, {"first_name": "Globex", "last_name": "Agent", "status": "inactive",
                                            "email": "agent@globex.example", "cmmsn_percent": Decimal("9")})
    add_agents(app, acme, {"first_name": "Acme", "last_name": "Agent", "cmmsn_percent": Decimal("1")})

    url = f"{AGENTS}/{globex_id}"
    for response in (api.get(url), api.get(f"{url}?format=csv"), api.put(url, json={"first_name": "Taken"}),
                     api.patch(url, json={"first_name": "Taken"}), api.delete(url)):
        assert response.status_code == 404
        assert response.json == NOT_FOUND
    row = user_row(app, globex_id)
    assert (row.first_name, row.deleted_at, row.business_id) == ("Globex", None, globex.business_id)

    assert names(api.get(AGENTS)) == ["Acme Agent"]
    assert api.get(AGENTS).json["meta"]["total"] == 1
    assert names(api.get(f"{AGENTS}?q=globex")) == []
    assert names(api.get(f"{AGENTS}?status=inactive")) == []
    assert [row[1] for row in read_csv(api.get(f"{AGENTS}?format=csv"))[1:]] == ["Acme Agent"]
    # And the other way round: Globex's owner sees only Globex's agent.
    globex_api = api.__class__(app.test_client(), {"Authorization": f"Bearer {make_token(app, globex.owner_id)}"})
    assert names(globex_api.get(AGENTS)) == ["Globex Agent"]


def test_created_agent_belongs_to_the_token_business(app, api, acme, globex):
    response = api.post(AGENTS, json={"first_name": "Ann", "cmmsn_percent": 1})
    assert user_row(app, response.json["data"]["id"]).business_id == acme.business_id


# --- list conventions ----------------------------------------------------------------

@pytest.fixture
def crew(app, acme):
    """Four agents, made in this order (created_at ascending)."""
    return add_agents(
        app, acme,
        {"first_name": "Bravo", "last_name": "Jones", "email": "b@crew.example", "contact_number": "555-0101",
         "cmmsn_percent": Decimal("5"), "status": "active"},
        {"first_name": "Alpha", "surname": "Dr", "email": "d@crew.example", "contact_number": "555-0202",
         "cmmsn_percent": Decimal("20"), "status": "inactive"},
        {"first_name": "Delta", "last_name": "Khan", "email": "a@crew.example", "cmmsn_percent": Decimal("12.5"),
         "status": "terminated"},
        {"first_name": "Charlie", "email": "c@other.example", "contact_number": "0777", "cmmsn_percent": None,
         "status": "active"},
    )


def test_list_answers_list_items_newest_first(app, api, crew):
    response = api.get(AGENTS)

    assert response.status_code == 200
    body = response.json
    assert set(body) == {"data", "meta", "links"}
    assert body["data"] == [list_item(app, agent_id) for agent_id in reversed(crew)]
    assert body["meta"] == {"current_page": 1, "last_page": 1, "per_page": 20, "total": 4, "from": 1, "to": 4}
    assert body["links"]["first"] == "http://localhost/api/v1/commission-agents?page=1&per_page=20&sort=created_at" \
                                     "&direction=desc"


def test_pagination(app, api, acme):
    add_agents(app, acme, *({"first_name": f"Agent {n:02d}", "cmmsn_percent": Decimal(n)} for n in range(1, 26)))
    body = api.get(f"{AGENTS}?page=2&per_page=10&sort=name&direction=asc").json
    assert [row["full_name"] for row in body["data"]] == [f"Agent {n:02d}" for n in range(11, 21)]
    assert body["meta"] == {"current_page": 2, "last_page": 3, "per_page": 10, "total": 25, "from": 11, "to": 20}


@pytest.mark.parametrize("query, order", [
    ("", ["Charlie", "Delta Khan", "Dr Alpha", "Bravo Jones"]),
    ("sort=created_at&direction=asc", ["Bravo Jones", "Dr Alpha", "Delta Khan", "Charlie"]),
    ("sort=name&direction=asc", ["Dr Alpha", "Bravo Jones", "Charlie", "Delta Khan"]),
    ("sort=name", ["Delta Khan", "Charlie", "Bravo Jones", "Dr Alpha"]),  # desc unless asked (seed 002)
    ("sort=-name", ["Delta Khan", "Charlie", "Bravo Jones", "Dr Alpha"]),
    ("orderby=name&order=asc", ["Dr Alpha", "Bravo Jones", "Charlie", "Delta Khan"]),
    ("sort=email&direction=asc", ["Delta Khan", "Bravo Jones", "Charlie", "Dr Alpha"]),
    ("sort=cmmsn_percent&direction=desc", ["Dr Alpha", "Delta Khan", "Bravo Jones", "Charlie"][:3]),
    ("sort=status&direction=asc", ["Bravo Jones", "Charlie", "Dr Alpha", "Delta Khan"]),
    ("sort=status", ["Delta Khan", "Dr Alpha", "Charlie", "Bravo Jones"]),
])
def test_sorting(api, crew, query, order):
    found = names(api.get(f"{AGENTS}?{query}"))
    if query.startswith("sort=cmmsn_percent"):
        found = [name for name in found if name != "Charlie"]  # NULL goes first or last by database
    assert found == order


@pytest.mark.parametrize("query, found", [
    ("status=active", ["Charlie", "Bravo Jones"]),
    ("status=inactive", ["Dr Alpha"]),
    ("status=terminated", ["Delta Khan"]),
    ("filter[status]=inactive,terminated", ["Delta Khan", "Dr Alpha"]),
    ("q=jones", ["Bravo Jones"]),
    ("q=BRAVO JONES", ["Bravo Jones"]),  # the full name
    ("q=dr alpha", ["Dr Alpha"]),
    ("q=crew.example", ["Delta Khan", "Dr Alpha", "Bravo Jones"]),  # email
    ("q=0202", ["Dr Alpha"]),  # contact number
    ("q=%25%25", []),
    ("search=charlie", ["Charlie"]),
    ("q=delta&search=charlie", ["Delta Khan"]),
    ("q=555&status=active", ["Bravo Jones"]),
    ("q=zz", []),
])
def test_filters_and_search(api, crew, query, found):
    assert names(api.get(f"{AGENTS}?{query}")) == found


@pytest.mark.parametrize("query, field, message", [
    ("q=a", "q", "The q field must be at least 2 characters."),
    ("status=gone", "status", "The status filter must be one of: active, inactive, terminated."),
    ("status=1", "status", "The status filter must be one of: active, inactive, terminated."),
    ("sort=password_hash", "sort", "The selected sort is invalid."),
    ("direction=up", "direction", "The selected direction is invalid."),
    ("per_page=101", "per_page", "The per page must be between 1 and 100."),
    ("format=xml", "format", "The selected format is invalid."),
])
def test_bad_list_parameters_are_422(api, query, field, message):
    response = api.get(f"{AGENTS}?{query}")
    assert response.status_code == 422
    assert response.json == invalid(field, message)


# --- CSV -----------------------------------------------------------------------------

def test_list_as_csv_has_bom_header_and_every_row(app, api, acme):
    ids = add_agents(app, acme, *({"first_name": f"Agent {n:02d}", "cmmsn_percent": Decimal("2.5")}
                                  for n in range(1, 26)))

    response = api.get(f"{AGENTS}?format=csv&per_page=5&page=2&sort=name&direction=asc")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="commission-agents.csv"'
    assert response.get_data().startswith(b"\xef\xbb\xbf" + CSV_HEADER.encode() + b"\r\n")
    rows = read_csv(response)
    assert rows[0] == CSV_HEADER.split(",")
    assert [int(row[0]) for row in rows[1:]] == ids
    first = list_item(app, ids[0])
    assert rows[1] == [str(first["id"]), "Agent 01", "", "", "", "2.5", "active", first["created_at"]]


def test_csv_follows_filters(api, crew):
    rows = read_csv(api.get(f"{AGENTS}?format=csv&status=active&sort=name&direction=asc"))
    assert [row[1] for row in rows[1:]] == ["Bravo Jones", "Charlie"]


def test_csv_cells_that_look_like_formulas_are_quoted(app, api, acme):
    add_agents(app, acme,
               {"first_name": '=HYPERLINK("http://x")', "cmmsn_percent": Decimal("1")},
               {"first_name": "Plain", "contact_number": "+44 20 7946 0958", "address": "@SUM(A1)",
                "email": "-2+3@x.example", "cmmsn_percent": Decimal("0")})

    rows = read_csv(api.get(f"{AGENTS}?format=csv&sort=created_at&direction=asc"))

    assert rows[1][1] == "'=HYPERLINK(\"http://x\")"
    assert rows[2][1:6] == ["Plain", "'-2+3@x.example", "'+44 20 7946 0958", "'@SUM(A1)", "0"]


def test_csv_of_an_empty_list_is_the_header(api):
    assert api.get(f"{AGENTS}?format=csv").get_data(as_text=True) == "\ufeff" + CSV_HEADER + "\r\n"


# --- documentation -------------------------------------------------------------------

def test_openapi_documents_the_seed_shapes(client):
    spec = client.get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    assert set(schemas["CommissionAgentListItem"]["properties"]) == {
        "id", "full_name", "email", "contact_no", "address", "cmmsn_percent", "status", "created_at"}
    assert set(schemas["CommissionAgentDetail"]["properties"]) == {
        "id", "surname", "first_name", "last_name", "full_name", "email", "contact_no", "address", "cmmsn_percent",
        "status", "allow_login", "is_commission_agent", "created_at", "updated_at"}
    assert schemas["CommissionAgentDetail"]["properties"]["cmmsn_percent"]["type"] == "number"
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/commission-agents"])
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/v1/commission-agents/{agent_id}"])
    assert set(paths["/api/v1/commission-agents/{agent_id}"]["delete"]["responses"]) == {
        "200", "400", "401", "403", "404", "406", "429"}
