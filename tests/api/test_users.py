"""/api/v1/users (seed 002): every rule of List/Get/Create/Update/Delete user, the
permission matrix, tenancy, list conventions and CSV."""
import csv
import io
import json

import pytest
from sqlalchemy import select

from app.auth.passwords import verify_password
from app.core.models import isoformat, utcnow
from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.api.conftest import add_locations
from tests.api.test_commission_agents import add_agents
from tests.conftest import make_token, make_user, sign_in

USERS = "/api/v1/users"
NOT_FOUND = {"message": "Not found"}
UNAUTHORIZED = {"message": "Unauthorized"}
DEMO = {"message": "Users cannot be changed while the business is in demo mode."}
UNSUBSCRIBED = {"message": "This business has no active subscription. Subscribe to add or change users."}
SELF_DELETE = {"message": "Cannot delete your own user account"}
LAST_ADMIN_ROLE = {"message": "Can not change role",
                   "errors": {"role": ["This is the only admin of the business; make another user an admin first."]}}
LAST_ADMIN = "This is the only admin of the business who can sign in; make another user an admin first."
LIST_HEADER = "id,username,email,full_name,contact_number,status,allow_login,role_name,created_at"
ALL = {"scope": "all"}


# --- helpers -------------------------------------------------------------------------

def role_id(app, tenant, name: str) -> int:
    from app.team.models import Role

    with app.app_context():
        stmt = select(Role.id).where(Role.name == f"{name}#{tenant.business_id}").execution_options(all_tenants=True)
        return db.session.scalar(stmt)


def add_users(app, tenant, *rows: dict) -> list[int]:
    """Staff users for `tenant` straight into the database (login off unless given)."""
    from app.team.models import User

    with app.app_context(), tenant_scope(tenant.business_id):
        users = [User(**{"allow_login": False, "status": "active", "is_cmmsn_agnt": False, **row}) for row in rows]
        db.session.add_all(users)
        db.session.commit()
        return [user.id for user in users]


def user_row(app, user_id: int):
    from app.team.models import User

    with app.app_context():
        row = db.session.scalar(select(User).where(User.id == user_id).execution_options(all_tenants=True))
        if row is not None:
            with tenant_scope(row.business_id):  # relationships load through tenancy too
                row.locations  # noqa: B018 - load before leaving the session
                row.role  # noqa: B018
            db.session.expunge_all()
        return row


def set_business(app, tenant, **values) -> None:
    from app.team.models import Business

    with app.app_context():
        business = db.session.get(Business, tenant.business_id)
        for key, value in values.items():
            setattr(business, key, value)
        db.session.commit()


def events(app, name: str) -> list[dict]:
    from app.core.events import OutboxEvent

    with app.app_context():
        return [e.payload for e in db.session.scalars(select(OutboxEvent).where(OutboxEvent.name == name)
                                                      .order_by(OutboxEvent.id))]


def count_staff(app, tenant) -> int:
    from app.team.models import User

    with app.app_context(), tenant_scope(tenant.business_id):
        stmt = select(User).where(User.is_cmmsn_agnt.is_(False), User.deleted_at.is_(None))
        return len(db.session.scalars(stmt).all())


def expected(app, user_id: int) -> dict:
    """The API's UserDetail of a stored user."""
    row = user_row(app, user_id)
    return {
        "id": row.id, "username": row.username, "surname": row.surname, "first_name": row.first_name,
        "last_name": row.last_name, "full_name": row.full_name, "email": row.email,
        "contact_number": row.contact_number, "status": row.status, "allow_login": row.allow_login,
        "language": row.language, "role_id": row.role_id, "role_name": row.role.name_key if row.role else None,
        "selected_contacts": row.selected_contacts, "contact_access": [],
        "permitted_locations": {"scope": row.location_scope,
                                "location_ids": sorted(loc.id for loc in row.locations)
                                if row.location_scope == "locations" else None},
        "created_at": isoformat(row.created_at), "updated_at": isoformat(row.updated_at),
    }


def list_item(app, user_id: int) -> dict:
    detail = expected(app, user_id)
    return {k: detail[k] for k in ("id", "username", "email", "full_name", "contact_number", "status",
                                   "allow_login", "role_name", "created_at")}


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
def cashier(app, acme) -> int:
    return role_id(app, acme, "Cashier")


@pytest.fixture
def admin(app, acme) -> int:
    return role_id(app, acme, "Admin")


@pytest.fixture
def shops(app, acme) -> list[int]:
    return add_locations(app, acme, {"name": "Bath Shop", "code": "B1"}, {"name": "Bristol Shop", "code": "B2"})


@pytest.fixture
def jane(app, acme, cashier) -> int:
    """A login-less cashier."""
    return add_users(app, acme, {"first_name": "Jane", "last_name": "Doe", "email": "jane@acme.example",
                                 "contact_number": "0700 111", "role_id": cashier})[0]


def body(role: int, **fields) -> dict:
    return {"first_name": "Jane", "role": role, "location_access": ALL, **fields}


# --- create --------------------------------------------------------------------------

def test_create_user_with_login(app, api, acme, cashier, shops):
    sent = {"surname": "Ms", "first_name": "Jane", "last_name": "Doe", "email": "jane@acme.example",
            "contact_number": "+44 7700 900000", "role": cashier, "allow_login": True, "username": "jane",
            "password": "secret1", "is_active": True,
            "location_access": {"scope": "locations", "location_ids": [shops[1], shops[0], shops[1]]}}

    response = api.post(USERS, json=sent)

    assert response.status_code == 201, response.json
    user_id = response.json["data"]["id"]
    assert response.headers["Location"].endswith(f"/api/v1/users/{user_id}")
    data = response.json["data"]
    assert response.json == {"data": {
        "id": user_id, "username": "jane", "surname": "Ms", "first_name": "Jane", "last_name": "Doe",
        "full_name": "Ms Jane Doe", "email": "jane@acme.example", "contact_number": "+44 7700 900000",
        "status": "active", "allow_login": True, "language": "en", "role_id": cashier, "role_name": "Cashier",
        "selected_contacts": False, "contact_access": [],
        "permitted_locations": {"scope": "locations", "location_ids": sorted(shops)},
        "created_at": data["created_at"], "updated_at": data["updated_at"],
    }}
    assert data == expected(app, user_id)
    row = user_row(app, user_id)
    assert row.business_id == acme.business_id and row.is_cmmsn_agnt is False
    assert row.password_hash.startswith("$argon2id$") and verify_password(row.password_hash, "secret1")
    assert "password" not in data and "password_hash" not in data
    assert events(app, "user.created") == [{"id": user_id, "name": "Ms Jane Doe"}]


def test_the_new_user_can_sign_in(app, api, cashier):
    api.post(USERS, json=body(cashier, allow_login=True, username="jane", password="secret1"))
    client = app.test_client()
    assert sign_in(client, "jane", "secret1").status_code == 302


def test_create_defaults_login_off_and_active(app, api, cashier):
    response = api.post(USERS, json=body(cashier, username="ignored", password="ignored-too"))

    assert response.status_code == 201
    data = response.json["data"]
    assert (data["allow_login"], data["username"], data["status"]) == (False, None, "active")
    row = user_row(app, data["id"])
    assert (row.allow_login, row.username, row.password_hash, row.location_scope) == (False, None, None, "all")


def test_create_inactive(app, api, cashier):
    response = api.post(USERS, json=body(cashier, is_active=False))
    assert response.json["data"]["status"] == "inactive"


def test_blank_username_is_generated_when_login_is_on(app, api, acme, globex, cashier):
    add_users(app, globex, {"first_name": "Other", "username": "jane.doe"})  # usernames are unique everywhere

    first = api.post(USERS, json=body(cashier, last_name="Doe", allow_login=True, password="secret1"))
    second = api.post(USERS, json=body(cashier, last_name="Doe", allow_login=True, password="secret1", username=" "))
    third = api.post(USERS, json=body(cashier, first_name="Élodie", last_name="O'Brien", allow_login=True,
                                      password="secret1", username=None))

    assert first.json["data"]["username"] == "jane.doe2"
    assert second.json["data"]["username"] == "jane.doe3"
    assert third.json["data"]["username"] == "elodie.o.brien"


@pytest.mark.parametrize("sent, errors", [
    ({}, {"first_name": ["The first name field is required."], "role": ["The role field is required."],
          "location_access": ["The location access field is required."]}),
    ({"role": 1, "location_access": ALL}, {"first_name": ["The first name field is required."]}),
    ({"first_name": "", "role": 1, "location_access": ALL}, {"first_name": ["The first name field is required."]}),
    ({"first_name": "Jane", "location_access": ALL}, {"role": ["The role field is required."]}),
    ({"first_name": "Jane", "role": 1}, {"location_access": ["The location access field is required."]}),
    ({"first_name": "Jane", "role": 1, "location_access": {}},
     {"location_access.scope": ["The location access.scope field is required."]}),
])
def test_required_fields(app, api, acme, sent, errors):
    response = api.post(USERS, json=sent)
    assert response.status_code == 422
    assert response.json["errors"] == errors
    assert count_staff(app, acme) == 1


def test_blank_first_name_is_required(app, api, acme, cashier):
    response = api.post(USERS, json=body(cashier, first_name="   "))
    assert response.status_code == 422
    assert response.json == invalid("first_name", "The first name field is required.")


def test_login_needs_a_password_of_six_characters(app, api, acme, cashier):
    response = api.post(USERS, json=body(cashier, allow_login=True))
    assert response.status_code == 422
    assert response.json == invalid("password", "The password field is required when allow login is true.")
    response = api.post(USERS, json=body(cashier, allow_login=True, password="12345"))
    assert response.json == invalid("password", "The password must be at least 6 characters.")
    assert count_staff(app, acme) == 1
    assert api.post(USERS, json=body(cashier, allow_login=True, password="123456")).status_code == 201


@pytest.mark.parametrize("role", [424242, 2147483648, 10**30])
def test_unknown_role_is_422(api, role):
    response = api.post(USERS, json=body(role))
    assert response.status_code == 422
    assert response.json == invalid("role", "The selected role is invalid.")


def test_role_of_another_business_is_422(app, api, acme, globex):
    response = api.post(USERS, json=body(role_id(app, globex, "Cashier")))
    assert response.json == invalid("role", "The selected role is invalid.")
    assert count_staff(app, acme) == 1


@pytest.mark.parametrize("access, field, message", [
    ({"scope": "some"}, "location_access.scope", "The selected location access.scope is invalid."),
    ({"scope": "locations"}, "location_access.location_ids",
     "The location access.location ids field is required when location access.scope is locations."),
    ({"scope": "locations", "location_ids": []}, "location_access.location_ids",
     "The location access.location ids field is required when location access.scope is locations."),
    ({"scope": "locations", "location_ids": [424242]}, "location_access.location_ids",
     "The selected location access.location ids are invalid."),
    ({"scope": "locations", "location_ids": [2**40]}, "location_access.location_ids",
     "The selected location access.location ids are invalid."),
    ({"scope": "locations", "location_ids": ["1"]}, "location_access.location_ids",
     "The location ids must be an array of ids."),
    ({"scope": "all", "colour": "red"}, "location_access.colour", "The colour field is not allowed."),
])
def test_bad_location_access_is_422(app, api, acme, cashier, access, field, message):
    response = api.post(USERS, json=body(cashier, location_access=access))
    assert response.status_code == 422
    assert response.json == invalid(field, message)
    assert count_staff(app, acme) == 1


def test_locations_of_another_business_are_422(app, api, acme, globex, cashier, shops):
    (elsewhere,) = add_locations(app, globex, {"name": "Globex HQ", "code": "G1"})
    response = api.post(USERS, json=body(cashier, location_access={"scope": "locations",
                                                                   "location_ids": [shops[0], elsewhere]}))
    assert response.status_code == 422
    assert response.json == invalid("location_access.location_ids",
                                    "The selected location access.location ids are invalid.")
    assert count_staff(app, acme) == 1


def test_username_taken_in_any_business_is_422(app, api, globex, cashier):
    add_users(app, globex, {"first_name": "Other", "username": "Taken"})
    response = api.post(USERS, json=body(cashier, allow_login=True, password="secret1", username="taken"))
    assert response.status_code == 422
    assert response.json == invalid("username", "The username has already been taken.")


def test_username_may_not_hold_spaces(api, cashier):
    response = api.post(USERS, json=body(cashier, allow_login=True, password="secret1", username="jane doe"))
    assert response.json == invalid(
        "username", "The username may only contain letters, numbers, dots, dashes, underscores and @.")


def test_sign_in_email_must_be_unique_for_login_users(app, api, cashier):
    response = api.post(USERS, json=body(cashier, allow_login=True, password="secret1", email="OWNER@globex.example"))
    assert response.status_code == 201  # nobody signs in with it yet
    response = api.post(USERS, json=body(cashier, allow_login=True, password="secret1", email="owner@acme.example"))
    assert response.status_code == 422
    assert response.json == invalid("email", "The email has already been taken.")
    # Without login the address may be shared (a shared shop inbox, say).
    assert api.post(USERS, json=body(cashier, email="owner@acme.example")).status_code == 201


@pytest.mark.parametrize("field, label", [
    ("colour", "colour"), ("id", "id"), ("business_id", "business id"), ("is_cmmsn_agnt", "is cmmsn agnt"),
    ("password_hash", "password hash"), ("status", "status"), ("role_id", "role id"),
])
def test_unknown_fields_are_422(app, api, acme, cashier, jane, field, label):
    response = api.post(USERS, json=body(cashier, **{field: 1}))
    assert response.status_code == 422
    assert response.json == invalid(field, f"The {label} field is not allowed.")
    response = api.patch(f"{USERS}/{jane}", json=body(cashier, **{field: 1}))
    assert response.json == invalid(field, f"The {label} field is not allowed.")


@pytest.mark.parametrize("field, limit, label", [
    ("surname", 30, "surname"), ("first_name", 120, "first name"), ("last_name", 120, "last name"),
    ("contact_number", 40, "contact number"), ("username", 120, "username"),
])
def test_too_long_fields_are_422(api, cashier, field, limit, label):
    sent = body(cashier, allow_login=True, password="secret1", **{field: "x" * (limit + 1)})
    response = api.post(USERS, json=sent)
    assert response.status_code == 422
    assert response.json == invalid(field, f"The {label} may not be greater than {limit} characters.")
    assert api.post(USERS, json=sent | {field: "x" * limit}).status_code == 201


def test_invalid_email_is_422(api, cashier):
    response = api.post(USERS, json=body(cashier, email="not-an-email"))
    assert response.json == invalid("email", "The email must be a valid email address.")


def test_user_quota_is_checked_on_create(app, api, acme, cashier):
    set_business(app, acme, user_quota=2)
    add_agents(app, acme, {"first_name": "Agent"})  # agents are no users of the quota
    assert api.post(USERS, json=body(cashier)).status_code == 201

    response = api.post(USERS, json=body(cashier, first_name="Ninth"))

    assert response.status_code == 422
    assert response.json == {"message": "The user quota of this business (2 users) is used up."
                                        " Upgrade the plan or delete a user first."}
    assert count_staff(app, acme) == 2
    set_business(app, acme, user_quota=None)  # unlimited
    assert api.post(USERS, json=body(cashier, first_name="Ninth")).status_code == 201


def test_deleted_users_free_their_quota(app, api, acme, cashier, jane):
    set_business(app, acme, user_quota=2)
    assert api.post(USERS, json=body(cashier)).status_code == 422
    assert api.delete(f"{USERS}/{jane}").status_code == 200
    assert api.post(USERS, json=body(cashier)).status_code == 201


@pytest.mark.parametrize("status, allowed", [("canceled", False), ("past_due", False), ("trialing", True),
                                             ("active", True)])
def test_unsubscribed_business_is_402(app, api, acme, cashier, jane, status, allowed):
    set_business(app, acme, enforce_subscription=True, subscription_status=status)
    create = api.post(USERS, json=body(cashier))
    update = api.put(f"{USERS}/{jane}", json=body(cashier, first_name="Janet"))
    if allowed:
        assert (create.status_code, update.status_code) == (201, 200)
    else:
        assert (create.status_code, update.status_code) == (402, 402)
        assert create.json == update.json == UNSUBSCRIBED
        assert count_staff(app, acme) == 2 and user_row(app, jane).first_name == "Jane"


def test_subscription_is_only_enforced_when_asked(app, api, acme, cashier):
    set_business(app, acme, enforce_subscription=False, subscription_status="canceled")
    assert api.post(USERS, json=body(cashier)).status_code == 201


def test_demo_mode_refuses_writes_with_403(app, api, acme, cashier, jane):
    set_business(app, acme, demo_mode=True)
    url = f"{USERS}/{jane}"
    for response in (api.post(USERS, json=body(cashier)), api.put(url, json=body(cashier, first_name="X")),
                     api.patch(url, json=body(cashier, first_name="X")), api.delete(url)):
        assert response.status_code == 403
        assert response.json == DEMO
    row = user_row(app, jane)
    assert (row.first_name, row.deleted_at) == ("Jane", None)
    assert api.get(url).status_code == 200 and api.get(USERS).status_code == 200  # reads still work


def test_demo_mode_of_another_business_does_not_matter(app, api, globex, cashier):
    set_business(app, globex, demo_mode=True)
    assert api.post(USERS, json=body(cashier)).status_code == 201


def test_without_permission_demo_mode_is_still_unauthorized(app, api_as, acme, cashier):
    set_business(app, acme, demo_mode=True)
    clerk = make_user(app, acme, "clerk@acme.example", permissions=["user.view"])
    response = api_as(clerk).post(USERS, json=body(cashier))
    assert (response.status_code, response.json) == (403, UNAUTHORIZED)


# --- read ----------------------------------------------------------------------------

def test_get_user(app, api, jane, shops):
    response = api.get(f"{USERS}/{jane}")
    assert response.status_code == 200
    assert response.json == {"data": expected(app, jane)}
    assert response.json["data"]["permitted_locations"] == {"scope": "all", "location_ids": None}
    assert response.json["data"]["created_at"].endswith("Z")


def test_one_user_as_csv(app, api, acme, cashier):
    (user_id,) = add_users(app, acme, {"first_name": "=cmd|' /C calc'!A0", "role_id": cashier})

    response = api.get(f"{USERS}/{user_id}?format=csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="user-{user_id}.csv"'
    header, row = read_csv(response)
    assert header == ["id", "username", "surname", "first_name", "last_name", "full_name", "email", "contact_number",
                      "status", "allow_login", "language", "role_id", "role_name", "selected_contacts", "created_at",
                      "updated_at", "data_json"]
    assert row[3] == "'=cmd|' /C calc'!A0"
    assert row[8:14] == ["active", "0", "en", str(cashier), "Cashier", "0"]
    assert json.loads(row[-1]) == expected(app, user_id)


def test_agents_and_deleted_users_are_not_users(app, api, acme, cashier, jane):
    (agent,) = add_agents(app, acme, {"first_name": "Agent", "last_name": "Smith"})
    (gone,) = add_users(app, acme, {"first_name": "Gone", "deleted_at": utcnow(), "role_id": cashier})

    assert sorted(names(api.get(USERS))) == ["Jane Doe", "Owner Acme"]
    assert names(api.get(f"{USERS}?q=smith")) == []
    assert [row[3] for row in read_csv(api.get(f"{USERS}?format=csv"))[1:]] == ["Jane Doe", "Owner Acme"]
    for user_id in (agent, gone):
        url = f"{USERS}/{user_id}"
        for response in (api.get(url), api.get(f"{url}?format=csv"), api.put(url, json=body(cashier)),
                         api.patch(url, json=body(cashier)), api.delete(url)):
            assert response.status_code == 404
            assert response.json == NOT_FOUND
    assert user_row(app, agent).first_name == "Agent" and user_row(app, agent).deleted_at is None


@pytest.mark.parametrize("user_id", ["424242", "0", "2147483648", "99999999999999999999999", "-1", "abc"])
def test_unknown_id_is_404(api, cashier, user_id):
    url = f"{USERS}/{user_id}"
    for response in (api.get(url), api.put(url, json=body(cashier)), api.patch(url, json=body(cashier)),
                     api.delete(url)):
        assert response.status_code == 404
        assert response.json == NOT_FOUND


# --- update --------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_requires_role_and_location_access(app, api, jane, method):
    response = getattr(api, method)(f"{USERS}/{jane}", json={"first_name": "Janet"})
    assert response.status_code == 422
    assert response.json["errors"] == {"role": ["The role field is required."],
                                       "location_access": ["The location access field is required."]}
    assert user_row(app, jane).first_name == "Jane"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_keeps_what_is_left_out_and_replaces_role_and_locations(app, api, acme, jane, shops, method):
    spare = make_user(app, acme, "spare@acme.example", role_name="Stock")  # creates the Stock role
    stock = role_id(app, acme, "Stock")
    before = expected(app, jane)

    response = getattr(api, method)(f"{USERS}/{jane}", json={
        "role": stock, "last_name": "Smith", "location_access": {"scope": "locations", "location_ids": [shops[0]]}})

    assert response.status_code == 200, response.json
    assert response.json == {"data": expected(app, jane)}
    data = response.json["data"]
    assert (data["last_name"], data["full_name"], data["role_id"], data["role_name"]) == (
        "Smith", "Jane Smith", stock, "Stock")
    assert data["permitted_locations"] == {"scope": "locations", "location_ids": [shops[0]]}
    for key in ("first_name", "email", "contact_number", "status", "allow_login", "username"):
        assert data[key] == before[key]
    assert events(app, "user.updated") == [{"id": jane, "name": "Jane Smith"}]

    response = getattr(api, method)(f"{USERS}/{jane}", json={"role": stock, "location_access": ALL})
    assert response.json["data"]["permitted_locations"] == {"scope": "all", "location_ids": None}
    assert user_row(app, jane).locations == []
    assert spare


def test_update_can_clear_optional_fields(app, api, jane, cashier):
    response = api.patch(f"{USERS}/{jane}", json=body(cashier, email=None, contact_number=""))
    assert response.status_code == 200
    row = user_row(app, jane)
    assert (row.email, row.contact_number, row.first_name) == (None, None, "Jane")


@pytest.mark.parametrize("sent, message", [
    ({"first_name": ""}, "The first name field is required."),
    ({"first_name": "  "}, "The first name field is required."),
    ({"first_name": None}, "The first name field may not be null."),
])
def test_update_keeps_first_name_required(app, api, jane, cashier, sent, message):
    response = api.put(f"{USERS}/{jane}", json={"role": cashier, "location_access": ALL, **sent})
    assert response.status_code == 422
    assert response.json == invalid("first_name", message)


def test_update_is_active_maps_to_status(app, api, jane, cashier):
    response = api.patch(f"{USERS}/{jane}", json=body(cashier, is_active=False))
    assert response.json["data"]["status"] == "inactive"
    assert user_row(app, jane).status == "inactive"
    assert api.get(f"{USERS}?status=0").json["data"][0]["id"] == jane


OWNER_ONLY = "Only the business owner can change the owner's account."
OTHERS_PASSWORD = "You cannot set another user's password. Send them a link to reset it instead."


def test_a_colleague_switches_sign_in_on_but_never_chooses_the_password(app, api, jane, cashier):
    """Nobody sets an existing user's password, not even a first one: switching sign-in off
    (which clears it, seed 002) and on again with a password of one's choosing was an
    account takeover in two requests. Sign-in goes on; the user gets a reset link."""
    response = api.patch(f"{USERS}/{jane}", json=body(cashier, allow_login=True, password="secret1"))
    assert (response.status_code, response.json) == (403, {"message": OTHERS_PASSWORD})
    assert user_row(app, jane).password_hash is None

    response = api.patch(f"{USERS}/{jane}", json=body(cashier, allow_login=True))
    assert response.status_code == 200, response.json
    assert (response.json["data"]["allow_login"], response.json["data"]["username"]) == (True, "jane.doe")
    assert user_row(app, jane).password_hash is None  # until she follows a reset link

    response = api.patch(f"{USERS}/{jane}", json=body(cashier, username="janed"))
    assert (response.json["data"]["allow_login"], response.json["data"]["username"]) == (True, "janed")
    response = api.patch(f"{USERS}/{jane}", json=body(cashier, password="short"))
    assert response.json == invalid("password", "The password must be at least 6 characters.")


def test_switching_sign_in_off_and_on_cannot_take_an_account_over(app, api_as, acme, jane, cashier):
    """The probe's two-step takeover, by someone holding only user.view and user.update."""
    from app.auth.passwords import hash_password
    from app.team.models import Role, User

    with app.app_context(), tenant_scope(acme.business_id):
        row = db.session.get(User, jane)
        row.allow_login, row.username, row.password_hash = True, "jane", hash_password("janes-own-1")
        held = db.session.get(Role, cashier).permission_names
        db.session.commit()
    # Holding all Jane holds (so she is within reach), plus the right to edit users.
    editor = api_as(make_user(app, acme, "editor@acme.example", [*held, "user.view", "user.update"]))
    off = editor.patch(f"{USERS}/{jane}", json=body(cashier, allow_login=False))
    assert off.status_code == 200
    on = editor.patch(f"{USERS}/{jane}", json=body(cashier, allow_login=True, password="taken-over-1"))
    assert (on.status_code, on.json) == (403, {"message": OTHERS_PASSWORD})
    assert sign_in(app.test_client(), "jane", "taken-over-1").status_code != 302


def test_disabling_login_clears_username_password_and_signs_out(app, api, acme):
    clerk = make_user(app, acme, "clerk@acme.example", permissions=["locations.view"], role_name="Clerk")
    browser = app.test_client()
    assert sign_in(browser, "clerk@acme.example", "user-password").status_code == 302
    assert browser.get("/").status_code == 200
    nonce = user_row(app, clerk).session_nonce

    response = api.patch(f"{USERS}/{clerk}", json=body(role_id(app, acme, "Clerk"), allow_login=False,
                                                      username="ignored", password="ignored1"))

    assert response.status_code == 200, response.json
    assert (response.json["data"]["allow_login"], response.json["data"]["username"]) == (False, None)
    row = user_row(app, clerk)
    assert (row.allow_login, row.username, row.password_hash) == (False, None, None)
    assert row.session_nonce == nonce + 1
    assert browser.get("/").status_code == 302  # signed out
    assert sign_in(app.test_client(), "clerk@acme.example", "user-password").status_code != 302  # refused


def test_quota_on_update_only_when_allow_login_is_sent_truthy(app, api, acme, jane, cashier):
    set_business(app, acme, user_quota=1)  # the owner and Jane: one over
    assert api.patch(f"{USERS}/{jane}", json=body(cashier, first_name="Janet")).status_code == 200
    assert api.patch(f"{USERS}/{jane}", json=body(cashier, allow_login=False)).status_code == 200

    response = api.patch(f"{USERS}/{jane}", json=body(cashier, allow_login=True))

    assert response.status_code == 422
    assert response.json == {"message": "The user quota of this business (1 user) is used up."
                                        " Upgrade the plan or delete a user first."}
    assert user_row(app, jane).allow_login is False
    set_business(app, acme, user_quota=2)  # exactly full: the user counts once, not twice
    assert api.patch(f"{USERS}/{jane}", json=body(cashier, allow_login=True)).status_code == 200


def test_last_admin_cannot_lose_the_admin_role(app, api, acme, admin, cashier):
    response = api.put(f"{USERS}/{acme.owner_id}", json=body(cashier))

    assert response.status_code == 422
    assert response.json == LAST_ADMIN_ROLE
    assert user_row(app, acme.owner_id).role_id == admin
    assert api.put(f"{USERS}/{acme.owner_id}", json=body(admin, first_name="Olive")).status_code == 200


def test_an_inactive_second_admin_does_not_count(app, api, acme, admin, cashier):
    (idle,) = add_users(app, acme, {"first_name": "Idle", "role_id": admin, "status": "inactive"})
    assert api.put(f"{USERS}/{acme.owner_id}", json=body(cashier)).json == LAST_ADMIN_ROLE
    # The inactive one may lose the role: the owner remains an admin who can sign in.
    assert api.put(f"{USERS}/{idle}", json=body(cashier)).status_code == 200
    assert user_row(app, idle).role_id == cashier
    make_user(app, acme, "second@acme.example", role_name="Admin")
    assert api.put(f"{USERS}/{acme.owner_id}", json=body(cashier)).status_code == 200
    assert user_row(app, acme.owner_id).role_id == cashier


def test_last_admin_cannot_be_locked_out(app, api_as, acme, admin):
    # Only the owner changes the owner's account (a manager gets 403), so the owner, the
    # only admin, is the one who could lock the business out.
    manager = make_user(app, acme, "manager@acme.example", permissions=["user.update", "user.delete"])
    owner = f"{USERS}/{acme.owner_id}"
    for response in (api_as(manager).patch(owner, json=body(admin, first_name="Owner", allow_login=False)),
                     api_as(manager).delete(owner)):
        assert (response.status_code, response.json) == (403, {"message": OWNER_ONLY})
    client = api_as(acme.owner_id)
    response = client.patch(owner, json=body(admin, first_name="Owner", allow_login=False))
    assert response.status_code == 422
    assert response.json == invalid("allow_login", LAST_ADMIN)
    response = client.patch(owner, json=body(admin, first_name="Owner", is_active=False))
    assert response.json == invalid("is_active", LAST_ADMIN)
    row = user_row(app, acme.owner_id)
    assert (row.allow_login, row.status, row.deleted_at) == (True, "active", None)


def test_you_cannot_deactivate_yourself(app, api, acme, admin):
    make_user(app, acme, "second@acme.example", role_name="Admin")
    response = api.patch(f"{USERS}/{acme.owner_id}", json=body(admin, first_name="Owner", is_active=False))
    assert response.json == invalid("is_active", "You cannot deactivate your own user account.")


# --- delete --------------------------------------------------------------------------

def test_delete_is_a_soft_delete(app, api, jane):
    response = api.delete(f"{USERS}/{jane}")

    assert response.status_code == 200
    assert response.json == {"message": "Deleted", "data": {"id": jane}}
    row = user_row(app, jane)
    assert row is not None and row.deleted_at is not None and row.first_name == "Jane"
    assert events(app, "user.deleted") == [{"id": jane, "name": "Jane Doe"}]
    assert api.get(f"{USERS}/{jane}").json == NOT_FOUND
    assert names(api.get(USERS)) == ["Owner Acme"]


def test_deleted_user_is_signed_out(app, api, acme):
    clerk = make_user(app, acme, "clerk@acme.example", permissions=["user.view"])
    token = make_token(app, clerk)
    browser = app.test_client()
    sign_in(browser, "clerk@acme.example", "user-password")
    assert api.delete(f"{USERS}/{clerk}").status_code == 200
    assert browser.get("/").status_code == 302
    assert app.test_client().get(USERS, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_you_cannot_delete_yourself(app, api, acme):
    make_user(app, acme, "second@acme.example", role_name="Admin")
    response = api.delete(f"{USERS}/{acme.owner_id}")
    assert response.status_code == 422
    assert response.json == SELF_DELETE
    assert user_row(app, acme.owner_id).deleted_at is None


# --- permissions ---------------------------------------------------------------------

def _calls(user_id, role):
    url = f"{USERS}/{user_id}"
    return {
        "list": ("get", USERS, None),
        "csv": ("get", f"{USERS}?format=csv", None),
        "show": ("get", url, None),
        "show_csv": ("get", f"{url}?format=csv", None),
        "create": ("post", USERS, body(role, first_name="New")),
        "put": ("put", url, body(role, first_name="Renamed")),
        "patch": ("patch", url, body(role, first_name="Renamed")),
        "delete": ("delete", url, None),
    }


NEEDS = {
    "list": {"user.view", "user.create"}, "csv": {"user.view", "user.create"},
    "show": {"user.view"}, "show_csv": {"user.view"},
    "create": {"user.create"}, "put": {"user.update"}, "patch": {"user.update"}, "delete": {"user.delete"},
}
ALL_USER_PERMISSIONS = ["user.view", "user.create", "user.update", "user.delete"]


def _send(client, call, user_id, role):
    method, url, sent = _calls(user_id, role)[call]
    return getattr(client, method)(url, json=sent) if sent else getattr(client, method)(url)


def _unchanged(app, acme, user_id):
    row = user_row(app, user_id)
    assert (row.first_name, row.deleted_at) == ("Jane", None)
    assert count_staff(app, acme) == 3  # owner, Jane, the caller


@pytest.mark.parametrize("call", list(NEEDS))
@pytest.mark.parametrize("permission", ALL_USER_PERMISSIONS + ["roles.view"])
def test_each_call_needs_its_permission(app, api_as, acme, jane, cashier, call, permission):
    # Jane and the role given hold locations.view (the Cashier's): the caller holds it too, so
    # only the permission under test decides (reaching beyond: test_privilege_escalation).
    user = make_user(app, acme, f"{permission}@acme.example", permissions=[permission, "locations.view"])

    response = _send(api_as(user), call, jane, cashier)

    if permission in NEEDS[call]:
        assert response.status_code in (200, 201), response.get_data(as_text=True)
    else:
        assert response.status_code == 403
        assert response.json == UNAUTHORIZED
        _unchanged(app, acme, jane)


@pytest.mark.parametrize("call", list(NEEDS))
@pytest.mark.parametrize("ability", ALL_USER_PERMISSIONS)
def test_token_abilities_narrow_an_admin(app, api_as, acme, jane, cashier, call, ability):
    response = _send(api_as(acme.owner_id, abilities=[ability, "locations.view"]), call, jane, cashier)
    if ability in NEEDS[call]:
        assert response.status_code in (200, 201), response.get_data(as_text=True)
    else:
        assert response.status_code == 403
        assert response.json == UNAUTHORIZED
        assert user_row(app, jane).first_name == "Jane"


def test_permission_is_checked_before_existence(app, api_as, acme, cashier):
    user = make_user(app, acme, "nobody@acme.example", permissions=[])
    client = api_as(user)
    for call in NEEDS:
        response = _send(client, call, 424242, cashier)
        assert (response.status_code, response.json) == (403, UNAUTHORIZED)


# --- tenancy -------------------------------------------------------------------------

def test_user_of_another_business_is_404_on_every_route(app, api, acme, globex, cashier):
    globex_cashier = role_id(app, globex, "Cashier")
    (other,) = add_users(app, globex, {"first_name": "Globex", "last_name": "Clerk", "status": "inactive",
                                       "email": "clerk@globex.example", "role_id": globex_cashier})

    url = f"{USERS}/{other}"
    for response in (api.get(url), api.get(f"{url}?format=csv"), api.put(url, json=body(cashier)),
                     api.patch(url, json=body(cashier)), api.delete(url)):
        assert response.status_code == 404
        assert response.json == NOT_FOUND
    row = user_row(app, other)
    assert (row.first_name, row.deleted_at, row.role_id, row.business_id) == (
        "Globex", None, globex_cashier, globex.business_id)
    # Their owner is as invisible.
    assert api.get(f"{USERS}/{globex.owner_id}").json == NOT_FOUND

    assert names(api.get(USERS)) == ["Owner Acme"]
    assert names(api.get(f"{USERS}?q=globex")) == []
    assert names(api.get(f"{USERS}?status=inactive")) == []
    assert names(api.get(f"{USERS}?role_id={globex_cashier}")) == []
    assert [row[3] for row in read_csv(api.get(f"{USERS}?format=csv"))[1:]] == ["Owner Acme"]
    globex_api = api.__class__(app.test_client(), {"Authorization": f"Bearer {make_token(app, globex.owner_id)}"})
    assert sorted(names(globex_api.get(USERS))) == ["Globex Clerk", "Owner Globex"]


# --- list conventions ----------------------------------------------------------------

@pytest.fixture
def crew(app, acme, admin, cashier):
    """Four users, made in this order (created_at ascending), after the owner."""
    return add_users(
        app, acme,
        {"first_name": "Bravo", "last_name": "Jones", "email": "b@crew.example", "username": "bjones",
         "contact_number": "555-0101", "role_id": cashier, "allow_login": True},
        {"first_name": "Alpha", "surname": "Dr", "email": "d@crew.example", "username": "zed",
         "contact_number": "555-0202", "role_id": admin, "status": "inactive", "allow_login": True},
        {"first_name": "Delta", "last_name": "Khan", "email": "a@crew.example", "role_id": cashier},
        {"first_name": "Charlie", "email": "c@other.example", "contact_number": "0777", "role_id": None},
    )


def test_list_answers_list_items_newest_first(app, api, acme, crew):
    response = api.get(USERS)

    assert response.status_code == 200
    body_ = response.json
    assert set(body_) == {"data", "meta", "links"}
    assert body_["data"] == [list_item(app, user_id) for user_id in [*reversed(crew), acme.owner_id]]
    assert body_["data"][0]["role_name"] is None and body_["data"][-2]["role_name"] == "Cashier"
    assert body_["meta"] == {"current_page": 1, "last_page": 1, "per_page": 20, "total": 5, "from": 1, "to": 5}
    assert body_["links"]["first"] == "http://localhost/api/v1/users?page=1&per_page=20&sort=created_at" \
                                      "&direction=desc"


def test_pagination(app, api, acme):
    add_users(app, acme, *({"first_name": f"User {n:02d}"} for n in range(1, 25)))
    page = api.get(f"{USERS}?page=2&per_page=10&sort=name&direction=asc").json
    assert [row["full_name"] for row in page["data"]] == [f"User {n:02d}" for n in range(10, 20)]  # Owner is 1st
    assert page["meta"] == {"current_page": 2, "last_page": 3, "per_page": 10, "total": 25, "from": 11, "to": 20}


@pytest.mark.parametrize("query, order", [
    ("", ["Charlie", "Delta Khan", "Dr Alpha", "Bravo Jones", "Owner Acme"]),
    ("sort=created_at&direction=asc", ["Owner Acme", "Bravo Jones", "Dr Alpha", "Delta Khan", "Charlie"]),
    ("sort=name&direction=asc", ["Dr Alpha", "Bravo Jones", "Charlie", "Delta Khan", "Owner Acme"]),
    ("sort=name", ["Owner Acme", "Delta Khan", "Charlie", "Bravo Jones", "Dr Alpha"]),  # desc unless asked
    ("sort=-name", ["Owner Acme", "Delta Khan", "Charlie", "Bravo Jones", "Dr Alpha"]),
    ("orderby=name&order=asc", ["Dr Alpha", "Bravo Jones", "Charlie", "Delta Khan", "Owner Acme"]),
    ("sort=email&direction=asc", ["Delta Khan", "Bravo Jones", "Charlie", "Dr Alpha", "Owner Acme"]),
    ("sort=username&direction=desc", ["Dr Alpha", "Owner Acme", "Bravo Jones"]),
    ("sort=status&direction=asc", ["Owner Acme", "Bravo Jones", "Delta Khan", "Charlie", "Dr Alpha"]),
    ("sort=status", ["Dr Alpha", "Charlie", "Delta Khan", "Bravo Jones", "Owner Acme"]),
])
def test_sorting(api, crew, query, order):
    found = names(api.get(f"{USERS}?{query}"))
    if "username" in query:
        found = [name for name in found if name not in ("Charlie", "Delta Khan")]  # NULLs: first or last by database
    assert found == order


@pytest.mark.parametrize("query, found", [
    ("status=active", ["Charlie", "Delta Khan", "Bravo Jones", "Owner Acme"]),
    ("status=1", ["Charlie", "Delta Khan", "Bravo Jones", "Owner Acme"]),
    ("status=inactive", ["Dr Alpha"]),
    ("status=0", ["Dr Alpha"]),
    ("filter[status]=inactive", ["Dr Alpha"]),
    ("q=jones", ["Bravo Jones"]),  # last name
    ("q=DR ALPHA", ["Dr Alpha"]),  # the full name
    ("q=crew.example", ["Delta Khan", "Dr Alpha", "Bravo Jones"]),  # email
    ("q=bjon", ["Bravo Jones"]),  # username
    ("q=0202", ["Dr Alpha"]),  # contact number
    ("q=%25%25", []),
    ("search=charlie", ["Charlie"]),
    ("q=delta&search=charlie", ["Delta Khan"]),
    ("q=555&status=active", ["Bravo Jones"]),
    ("q=zz", []),
])
def test_filters_and_search(api, crew, query, found):
    assert names(api.get(f"{USERS}?{query}")) == found


def test_role_filter(app, api, acme, crew, admin, cashier):
    assert names(api.get(f"{USERS}?role_id={cashier}")) == ["Delta Khan", "Bravo Jones"]
    assert names(api.get(f"{USERS}?role_id={admin}")) == ["Dr Alpha", "Owner Acme"]
    assert names(api.get(f"{USERS}?filter[role_id]={admin},{cashier}&status=active")) == [
        "Delta Khan", "Bravo Jones", "Owner Acme"]
    assert names(api.get(f"{USERS}?role_id=424242")) == []


@pytest.mark.parametrize("query, field, message", [
    ("q=a", "q", "The q field must be at least 2 characters."),
    ("status=gone", "status", "The status filter must be one of: active, inactive, 1, 0."),
    ("status=terminated", "status", "The status filter must be one of: active, inactive, 1, 0."),
    ("role_id=abc", "role_id", "The role_id filter must be a whole number."),
    ("role_id=99999999999999999999", "role_id", "The role_id filter must be a whole number."),
    ("sort=password_hash", "sort", "The selected sort is invalid."),
    ("sort=role_name", "sort", "The selected sort is invalid."),
    ("direction=up", "direction", "The selected direction is invalid."),
    ("per_page=101", "per_page", "The per page must be between 1 and 100."),
    ("format=xml", "format", "The selected format is invalid."),
])
def test_bad_list_parameters_are_422(api, query, field, message):
    response = api.get(f"{USERS}?{query}")
    assert response.status_code == 422
    assert response.json == invalid(field, message)


# --- CSV -----------------------------------------------------------------------------

def test_list_as_csv_byte_for_byte(app, api, acme, cashier):
    (quoted,) = add_users(app, acme, {"first_name": 'Anna "Nan"', "last_name": "Smith, Jr", "email": "anna@acme.example",
                                      "contact_number": "+44 20 7946 0958", "username": "anna", "allow_login": True,
                                      "role_id": cashier})
    owner, anna = list_item(app, acme.owner_id), list_item(app, quoted)

    response = api.get(f"{USERS}?format=csv&per_page=1&page=2&sort=name&direction=asc")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="users.csv"'
    assert response.get_data() == (
        "\ufeff" + LIST_HEADER + "\r\n"
        + f'{quoted},anna,anna@acme.example,"Anna ""Nan"" Smith, Jr",\'+44 20 7946 0958,active,1,Cashier,'
          f'{anna["created_at"]}\r\n'
        + f'{acme.owner_id},owner@acme.example,owner@acme.example,Owner Acme,,active,1,Admin,{owner["created_at"]}\r\n'
    ).encode("utf-8")


def test_csv_follows_filters_and_ignores_pagination(app, api, acme):
    ids = add_users(app, acme, *({"first_name": f"User {n:02d}"} for n in range(1, 26)))
    rows = read_csv(api.get(f"{USERS}?format=csv&per_page=5&q=user&sort=created_at&direction=asc"))
    assert rows[0] == LIST_HEADER.split(",")
    assert [int(row[0]) for row in rows[1:]] == ids


def test_csv_of_an_empty_list_is_the_header(api):
    assert api.get(f"{USERS}?format=csv&q=nobody").get_data(as_text=True) == "\ufeff" + LIST_HEADER + "\r\n"


# --- conventions ---------------------------------------------------------------------

def test_idempotency_key_replays_a_create(app, api, acme, cashier):
    headers = {"Idempotency-Key": "create-jane-1"}
    first = api.post(USERS, json=body(cashier), headers=headers)
    again = api.post(USERS, json=body(cashier), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json == first.json
    assert count_staff(app, acme) == 2
    other = api.post(USERS, json=body(cashier, first_name="Other"), headers=headers)
    assert other.status_code == 422


def test_openapi_documents_the_seed_shapes(client):
    spec = client.get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    assert set(schemas["UserListItem"]["properties"]) == {
        "id", "username", "email", "full_name", "contact_number", "status", "allow_login", "role_name", "created_at"}
    assert set(schemas["UserDetail"]["properties"]) == {
        "id", "username", "surname", "first_name", "last_name", "full_name", "email", "contact_number", "status",
        "allow_login", "language", "role_id", "role_name", "selected_contacts", "contact_access",
        "permitted_locations", "created_at", "updated_at"}
    assert set(schemas["UserCreate"]["required"]) == {"first_name", "role", "location_access"}
    assert set(schemas["UserUpdate"]["required"]) == {"role", "location_access"}
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/users"])
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/v1/users/{user_id}"])
    assert {"402", "403", "422"} <= set(paths["/api/v1/users"]["post"]["responses"])
    assert {"402", "403", "404", "422"} <= set(paths["/api/v1/users/{user_id}"]["patch"]["responses"])
    assert {"403", "404", "422"} <= set(paths["/api/v1/users/{user_id}"]["delete"]["responses"])


# --- selected contacts ---------------------------------------------------------------

def add_contacts(app, tenant, *names: str) -> list[int]:
    from app.pipelines.models import Contact

    with app.app_context(), tenant_scope(tenant.business_id):
        contacts = [Contact(first_name=name.split()[0], last_name=name.split()[-1]) for name in names]
        db.session.add_all(contacts)
        db.session.commit()
        return [contact.id for contact in contacts]


def contact_rows(app, user_id: int) -> list[int]:
    from app.team.models import user_contacts

    with app.app_context():
        stmt = select(user_contacts.c.contact_id).where(user_contacts.c.user_id == user_id)
        return sorted(db.session.scalars(stmt))


def test_create_with_selected_contacts(app, api, acme, cashier):
    ada, bob = add_contacts(app, acme, "Ada Lovelace", "Bob Marley")

    response = api.post(USERS, json=body(cashier, selected_contacts=True, selected_contact_ids=[bob, ada, bob]))

    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert data["selected_contacts"] is True
    assert data["contact_access"] == [{"id": ada, "name": "Ada Lovelace"}, {"id": bob, "name": "Bob Marley"}]
    assert contact_rows(app, data["id"]) == [ada, bob]
    assert api.get(f"{USERS}/{data['id']}").json["data"]["contact_access"] == data["contact_access"]


def test_contacts_are_only_kept_in_selected_mode(app, api, acme, cashier):
    (ada,) = add_contacts(app, acme, "Ada Lovelace")
    response = api.post(USERS, json=body(cashier, selected_contacts=False, selected_contact_ids=[ada]))
    assert (response.json["data"]["selected_contacts"], response.json["data"]["contact_access"]) == (False, [])
    assert contact_rows(app, response.json["data"]["id"]) == []


@pytest.mark.parametrize("ids", [[424242], [2**40], "elsewhere"])
def test_contacts_must_belong_to_the_business(app, api, acme, globex, cashier, ids):
    (mine,) = add_contacts(app, acme, "Ada Lovelace")
    (theirs,) = add_contacts(app, globex, "Gus Globex")
    sent = [mine, theirs] if ids == "elsewhere" else [mine, *ids]

    response = api.post(USERS, json=body(cashier, selected_contacts=True, selected_contact_ids=sent))

    assert response.status_code == 422
    assert response.json == invalid("selected_contact_ids", "The selected contact ids are invalid.")
    assert count_staff(app, acme) == 1


def test_update_replaces_and_clears_selected_contacts(app, api, acme, jane, cashier):
    ada, bob, cy = add_contacts(app, acme, "Ada Lovelace", "Bob Marley", "Cy Twombly")
    url = f"{USERS}/{jane}"
    api.patch(url, json=body(cashier, selected_contacts=True, selected_contact_ids=[ada, bob]))
    assert contact_rows(app, jane) == [ada, bob]

    response = api.patch(url, json=body(cashier, selected_contact_ids=[cy]))  # mode stays on: replaced
    assert response.json["data"]["contact_access"] == [{"id": cy, "name": "Cy Twombly"}]
    assert api.patch(url, json=body(cashier, first_name="Janet")).json["data"]["contact_access"] == [
        {"id": cy, "name": "Cy Twombly"}]  # not sent: kept
    response = api.patch(url, json=body(cashier, selected_contact_ids=[]))  # an empty array clears
    assert (response.json["data"]["selected_contacts"], contact_rows(app, jane)) == (True, [])

    api.patch(url, json=body(cashier, selected_contact_ids=[ada]))
    response = api.patch(url, json=body(cashier, selected_contacts=False))
    assert (response.json["data"]["selected_contacts"], response.json["data"]["contact_access"]) == (False, [])
    assert contact_rows(app, jane) == []


def test_selected_contacts_limit_what_the_user_sees(app, api, api_as, acme):
    """The rule the contacts screens apply (app.pipelines.access) reads what this API saves."""
    from app.core.permissions import actor_for
    from app.pipelines.access import selected_contact_ids
    from app.pipelines.models import Contact
    from app.team.models import User

    ada, bob = add_contacts(app, acme, "Ada Lovelace", "Bob Marley")
    clerk = make_user(app, acme, "clerk@acme.example", permissions=["user.view"], role_name="Clerk")
    api.patch(f"{USERS}/{clerk}", json=body(role_id(app, acme, "Clerk"), first_name="Clerk", selected_contacts=True,
                                            selected_contact_ids=[bob]))
    with app.app_context(), tenant_scope(acme.business_id):
        actor = actor_for(db.session.get(User, clerk))
        visible = db.session.scalars(select(Contact.id).where(Contact.id.in_(selected_contact_ids(actor))))
        assert list(visible) == [bob]
    assert ada
