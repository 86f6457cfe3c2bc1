"""/api/v1/roles (seed 002): CRUD, permission merge, default roles, demo mode, permissions,
tenancy, list conventions, CSV, outbox events."""
import csv
import io
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import undefer

from app.core.events import OutboxEvent
from app.core.models import isoformat, utcnow
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.team.services import ensure_permissions
from tests.conftest import make_user

ROLES = "/api/v1/roles"
NOT_FOUND = {"message": "Not found"}
UNAUTHORIZED = {"message": "Unauthorized"}
DEMO = {"message": "Roles cannot be changed while the business is in demo mode."}
DEFAULT_EDIT = {"message": "Default roles cannot be edited."}
DEFAULT_DELETE = {"message": "Default roles cannot be deleted."}
LIST_HEADER = "id,name,name_key,name_storage,is_default,is_service_staff,users_count,created_at"
DETAIL_HEADER = LIST_HEADER + ",guard_name,updated_at"  # the permissions list is in data_json


# --- helpers -------------------------------------------------------------------------

def add_role(app, tenant, name: str, permissions=(), **fields) -> int:
    """A role for `tenant` straight into the database (display name; the suffix is added)."""
    from app.team.models import Role

    with app.app_context(), tenant_scope(tenant.business_id):
        role = Role(name=f"{name}#{tenant.business_id}", permissions=ensure_permissions(permissions), **fields)
        db.session.add(role)
        db.session.commit()
        return role.id


def role_row(app, role_id: int):
    """The role as stored, from any business, with users_count and permissions (None when gone)."""
    from app.team.models import Role

    with app.app_context():
        stmt = (select(Role).where(Role.id == role_id).options(undefer(Role.users_count))
                .execution_options(all_tenants=True))
        row = db.session.scalar(stmt)
        if row is not None:
            row.permission_names  # noqa: B018 - load before leaving the session
            db.session.expunge(row)
        return row


def role_id_named(app, tenant, name: str) -> int:
    from app.team.models import Role

    with app.app_context():
        stmt = select(Role.id).where(Role.name == f"{name}#{tenant.business_id}").execution_options(all_tenants=True)
        return db.session.scalar(stmt)


def set_role(app, user_id: int, role_id: int | None, deleted: bool = False) -> None:
    from app.team.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.id == user_id).execution_options(all_tenants=True))
        user.role_id = role_id
        user.deleted_at = utcnow() if deleted else None
        db.session.commit()


def set_demo_mode(app, tenant, on: bool = True) -> None:
    from app.team.models import Business

    with app.app_context():
        db.session.get(Business, tenant.business_id).demo_mode = on
        db.session.commit()


def listed(row) -> dict:
    return {
        "id": row.id, "name": row.name.rsplit("#", 1)[0], "name_key": row.name.rsplit("#", 1)[0],
        "name_storage": row.name, "is_default": row.is_default, "is_service_staff": row.is_service_staff,
        "users_count": row.users_count, "created_at": isoformat(row.created_at),
    }


def expected(app, role_id: int) -> dict:
    """The API's RoleDetail of a stored role."""
    row = role_row(app, role_id)
    return listed(row) | {"guard_name": "web", "permissions": sorted(p.name for p in row.permissions),
                          "updated_at": isoformat(row.updated_at)}


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [row["name"] for row in response.json["data"]]


def invalid(field: str, message: str) -> dict:
    return {"message": message, "errors": {field: [message]}}


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def events(app, name: str) -> list[dict]:
    with app.app_context():
        return [e.payload for e in db.session.scalars(select(OutboxEvent).where(OutboxEvent.name == name)
                                                      .order_by(OutboxEvent.id))]


def permission_exists(app, name: str) -> bool:
    from app.team.models import Permission

    with app.app_context():
        return db.session.scalar(select(Permission.id).where(Permission.name == name)) is not None


# --- create --------------------------------------------------------------------------

def test_create_role_merges_the_permission_lists(app, api, acme):
    response = api.post(ROLES, json={
        "name": "  Store Manager  ", "permissions": ["locations.view", "roles.view"], "is_service_staff": True,
        "spg_permissions": ["locations.update", "roles.view"], "radio_options": ["access_all_locations"],
    })

    assert response.status_code == 201, response.json
    role_id = response.json["data"]["id"]
    assert response.headers["Location"].endswith(f"/api/v1/roles/{role_id}")
    data = response.json["data"]
    assert response.json == {"data": {
        "id": role_id, "name": "Store Manager", "name_key": "Store Manager",
        "name_storage": f"Store Manager#{acme.business_id}", "guard_name": "web", "is_default": False,
        "is_service_staff": True, "users_count": 0,
        "permissions": ["access_all_locations", "locations.update", "locations.view", "roles.view"],
        "created_at": data["created_at"], "updated_at": data["updated_at"],
    }}
    assert response.json == {"data": expected(app, role_id)}
    assert data["created_at"].endswith("Z")
    row = role_row(app, role_id)
    assert (row.name, row.business_id, row.is_default) == (f"Store Manager#{acme.business_id}", acme.business_id, False)
    assert events(app, "role.created") == [{"id": role_id, "name": "Store Manager", "permissions": data["permissions"]}]


def test_create_with_name_only(app, api, acme):
    response = api.post(ROLES, json={"name": "Helper"})
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert (data["permissions"], data["is_service_staff"], data["users_count"]) == ([], False, 0)
    assert response.json == {"data": expected(app, data["id"])}


def test_null_permission_lists_are_empty(app, api):
    response = api.post(ROLES, json={"name": "Helper", "permissions": None, "spg_permissions": None,
                                     "radio_options": ["roles.view"]})
    assert response.status_code == 201, response.json
    assert response.json["data"]["permissions"] == ["roles.view"]


def test_unknown_permissions_are_created(app, api):
    assert not permission_exists(app, "reports.secret")

    response = api.post(ROLES, json={"name": "Auditor", "permissions": [" reports.secret "]})

    assert response.status_code == 201, response.json
    assert response.json["data"]["permissions"] == ["reports.secret"]
    assert permission_exists(app, "reports.secret")


@pytest.mark.parametrize("name", ["Sales#1", "#", "a#b"])
def test_name_with_hash_is_422(app, api, name):
    response = api.post(ROLES, json={"name": name})
    assert response.status_code == 422
    assert response.json == invalid("name", "The name may not contain the # character.")
    assert names(api.get(ROLES)) == ["Admin", "Cashier"]


@pytest.mark.parametrize("name", ["Sales", "sales", " SALES "])
def test_duplicate_name_is_422_ignoring_case(app, api, acme, name):
    add_role(app, acme, "Sales")
    response = api.post(ROLES, json={"name": name})
    assert response.status_code == 422
    assert response.json == invalid("name", "The name has already been taken.")


@pytest.mark.parametrize("name", ["Admin", "Cashier"])
def test_default_role_names_are_taken(api, name):
    response = api.post(ROLES, json={"name": name})
    assert response.status_code == 422
    assert response.json == invalid("name", "The name has already been taken.")


def test_same_name_in_another_business_is_fine(app, api, acme, globex):
    add_role(app, globex, "Sales")
    response = api.post(ROLES, json={"name": "Sales"})
    assert response.status_code == 201
    assert response.json["data"]["name_storage"] == f"Sales#{acme.business_id}"


@pytest.mark.parametrize("body, message", [
    ({}, "The name field is required."),
    ({"name": ""}, "The name field is required."),
    ({"name": "   "}, "The name field is required."),
    ({"name": None}, "The name field may not be null."),
    ({"name": "x" * 151}, "The name may not be greater than 150 characters."),
    ({"name": 7}, "The name must be a string."),
])
def test_bad_names_are_422(api, body, message):
    response = api.post(ROLES, json=body)
    assert response.status_code == 422
    assert response.json == invalid("name", message)


def test_longest_name_is_fine(api):
    assert api.post(ROLES, json={"name": "x" * 150}).status_code == 201


@pytest.mark.parametrize("body, field, message", [
    ({"name": "R", "colour": "red"}, "colour", "The colour field is not allowed."),
    ({"name": "R", "business_id": 2}, "business_id", "The business id field is not allowed."),
    ({"name": "R", "is_default": True}, "is_default", "The is default field is not allowed."),
    ({"name": "R", "guard_name": "api"}, "guard_name", "The guard name field is not allowed."),
    ({"name": "R", "permissions": "roles.view"}, "permissions", "The permissions must be an array."),
    ({"name": "R", "spg_permissions": {"a": 1}}, "spg_permissions", "The spg permissions must be an array."),
    ({"name": "R", "permissions": [""]}, "permissions", "Permission names may not be blank."),
    ({"name": "R", "radio_options": ["  "]}, "radio_options", "Permission names may not be blank."),
    ({"name": "R", "permissions": ["p" * 192]}, "permissions",
     "Permission names may not be greater than 191 characters."),
    ({"name": "R", "permissions": [f"p{n}" for n in range(501)]}, "permissions",
     "At most 500 permission names may be sent."),
    ({"name": "R", "is_service_staff": "maybe"}, "is_service_staff",
     "The is service staff field must be true or false."),
])
def test_bad_fields_are_422(api, body, field, message):
    response = api.post(ROLES, json=body)
    assert response.status_code == 422
    assert response.json == invalid(field, message)
    assert names(api.get(ROLES)) == ["Admin", "Cashier"]


def test_permission_items_must_be_strings(api):
    response = api.post(ROLES, json={"name": "R", "permissions": ["roles.view", 5]})
    assert response.status_code == 422
    assert response.json == invalid("permissions.1", "The 1 must be a string.")


@pytest.mark.parametrize("body", [[{"name": "R"}], "R", 42])
def test_body_that_is_not_an_object_is_422(api, body):
    response = api.post(ROLES, json=body)
    assert response.status_code == 422
    assert response.json["message"] == "The request body must be a JSON object."


# --- get -----------------------------------------------------------------------------

def test_get_role_with_sorted_permissions(app, api, acme):
    role_id = add_role(app, acme, "Sales", ["roles.view", "locations.view", "access_all_locations"],
                       is_service_staff=True)

    response = api.get(f"{ROLES}/{role_id}")

    assert response.status_code == 200
    assert response.json == {"data": expected(app, role_id)}
    data = response.json["data"]
    assert data["permissions"] == ["access_all_locations", "locations.view", "roles.view"]
    assert (data["name"], data["name_key"], data["name_storage"]) == ("Sales", "Sales", f"Sales#{acme.business_id}")
    assert (data["is_default"], data["is_service_staff"], data["users_count"]) == (False, True, 0)


def test_get_default_roles(app, api, acme):
    admin = api.get(f"{ROLES}/{role_id_named(app, acme, 'Admin')}").json["data"]
    cashier = api.get(f"{ROLES}/{role_id_named(app, acme, 'Cashier')}").json["data"]
    assert (admin["name"], admin["is_default"], admin["users_count"]) == ("Admin", True, 1)  # the owner
    assert (cashier["name"], cashier["is_default"], cashier["permissions"]) == ("Cashier", True, ["locations.view"])


def test_users_count_counts_users_not_deleted(app, api, acme):
    role_id = add_role(app, acme, "Sales")
    for n in range(3):
        set_role(app, make_user(app, acme, f"u{n}@acme.example"), role_id, deleted=(n == 2))
    assert api.get(f"{ROLES}/{role_id}").json["data"]["users_count"] == 2


@pytest.mark.parametrize("role_id", ["424242", "0", "2147483648", "99999999999999999999999", "-1", "abc"])
def test_unknown_id_is_404(api, role_id):
    url = f"{ROLES}/{role_id}"
    for response in (api.get(url), api.put(url, json={"name": "X"}), api.patch(url, json={}), api.delete(url)):
        assert response.status_code == 404
        assert response.json == NOT_FOUND


def test_one_role_as_csv(app, api, acme):
    role_id = add_role(app, acme, "=Sales", ["roles.view", "locations.view"])

    response = api.get(f"{ROLES}/{role_id}?format=csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="role-{role_id}.csv"'
    rows = read_csv(response)
    assert rows[0] == DETAIL_HEADER.split(",") + ["data_json"]
    assert len(rows) == 2
    data = expected(app, role_id)
    assert json.loads(rows[1][-1]) == data
    assert rows[1][:4] == [str(role_id), "'=Sales", "'=Sales", f"'=Sales#{acme.business_id}"]


# --- update --------------------------------------------------------------------------

def test_put_replaces_the_role(app, api, acme):
    role_id = add_role(app, acme, "Sales", ["roles.view", "locations.view"], is_service_staff=True)

    response = api.put(f"{ROLES}/{role_id}", json={"name": "Senior Sales", "spg_permissions": ["user.view"],
                                                   "radio_options": ["user.view", "access_all_locations"]})

    assert response.status_code == 200, response.json
    assert response.json == {"data": expected(app, role_id)}
    data = response.json["data"]
    assert (data["name"], data["name_storage"]) == ("Senior Sales", f"Senior Sales#{acme.business_id}")
    # PUT is the whole role: permissions are the merge sent, service staff off when left out.
    assert data["permissions"] == ["access_all_locations", "user.view"]
    assert data["is_service_staff"] is False
    assert events(app, "role.updated") == [{"id": role_id, "name": "Senior Sales", "permissions": data["permissions"]}]


def test_put_needs_the_name(app, api, acme):
    role_id = add_role(app, acme, "Sales", ["roles.view"])
    response = api.put(f"{ROLES}/{role_id}", json={"permissions": []})
    assert response.status_code == 422
    assert response.json == invalid("name", "The name field is required.")
    assert role_row(app, role_id).permission_names == ["roles.view"]


def test_put_with_no_permissions_clears_them(app, api, acme):
    role_id = add_role(app, acme, "Sales", ["roles.view"])
    response = api.put(f"{ROLES}/{role_id}", json={"name": "Sales", "is_service_staff": True})
    assert response.status_code == 200, response.json
    assert (response.json["data"]["permissions"], response.json["data"]["is_service_staff"]) == ([], True)


def test_patch_changes_only_what_is_sent(app, api, acme):
    role_id = add_role(app, acme, "Sales", ["roles.view"], is_service_staff=True)

    response = api.patch(f"{ROLES}/{role_id}", json={"name": "Floor"})

    assert response.status_code == 200, response.json
    assert response.json == {"data": expected(app, role_id)}
    data = response.json["data"]
    assert (data["name"], data["permissions"], data["is_service_staff"]) == ("Floor", ["roles.view"], True)


def test_patch_with_one_permission_list_replaces_the_permissions(app, api, acme):
    role_id = add_role(app, acme, "Sales", ["roles.view"])
    response = api.patch(f"{ROLES}/{role_id}", json={"radio_options": ["user.view", "new.thing"]})
    assert response.status_code == 200, response.json
    assert response.json["data"]["permissions"] == ["new.thing", "user.view"]
    assert response.json["data"]["name"] == "Sales"
    assert permission_exists(app, "new.thing")


def test_patch_with_empty_body_changes_nothing(app, api, acme):
    role_id = add_role(app, acme, "Sales", ["roles.view"])
    before = expected(app, role_id)
    response = api.patch(f"{ROLES}/{role_id}", json={})
    assert response.status_code == 200
    assert {k: v for k, v in response.json["data"].items() if k != "updated_at"} == \
        {k: v for k, v in before.items() if k != "updated_at"}


def test_update_keeps_its_own_name_but_not_anothers(app, api, acme):
    role_id = add_role(app, acme, "Sales")
    add_role(app, acme, "Floor")
    assert api.patch(f"{ROLES}/{role_id}", json={"name": "SALES"}).status_code == 200
    for response in (api.patch(f"{ROLES}/{role_id}", json={"name": "floor"}),
                     api.put(f"{ROLES}/{role_id}", json={"name": "Admin"})):
        assert response.status_code == 422
        assert response.json == invalid("name", "The name has already been taken.")
    response = api.patch(f"{ROLES}/{role_id}", json={"name": "A#B"})
    assert response.json == invalid("name", "The name may not contain the # character.")
    assert role_row(app, role_id).name == f"SALES#{acme.business_id}"


def test_patch_name_may_not_be_blank(app, api, acme):
    role_id = add_role(app, acme, "Sales")
    for name in ("", "  "):
        response = api.patch(f"{ROLES}/{role_id}", json={"name": name})
        assert response.status_code == 422
        assert response.json == invalid("name", "The name field is required.")


# --- default roles -------------------------------------------------------------------

def test_admin_role_cannot_be_edited_or_deleted(app, api, acme):
    admin_id = role_id_named(app, acme, "Admin")
    for response in (api.put(f"{ROLES}/{admin_id}", json={"name": "Boss"}),
                     api.patch(f"{ROLES}/{admin_id}", json={"permissions": ["roles.view"]}),
                     api.patch(f"{ROLES}/{admin_id}", json={})):
        assert response.status_code == 422
        assert response.json == DEFAULT_EDIT
    response = api.delete(f"{ROLES}/{admin_id}")
    assert response.status_code == 422
    assert response.json == DEFAULT_DELETE
    row = role_row(app, admin_id)
    assert (row.name, row.permission_names) == (f"Admin#{acme.business_id}", [])


def test_other_default_roles_are_locked_too(app, api, acme):
    role_id = add_role(app, acme, "Supervisor", ["roles.view"], is_default=True)
    assert api.patch(f"{ROLES}/{role_id}", json={"is_service_staff": True}).json == DEFAULT_EDIT
    assert api.delete(f"{ROLES}/{role_id}").json == DEFAULT_DELETE
    assert role_row(app, role_id) is not None


def test_cashier_permissions_can_be_edited(app, api, acme):
    cashier_id = role_id_named(app, acme, "Cashier")

    response = api.put(f"{ROLES}/{cashier_id}", json={"name": "Cashier", "permissions": ["roles.view"],
                                                      "is_service_staff": True})

    assert response.status_code == 200, response.json
    assert response.json == {"data": expected(app, cashier_id)}
    assert (response.json["data"]["permissions"], response.json["data"]["is_default"]) == (["roles.view"], True)
    assert api.patch(f"{ROLES}/{cashier_id}", json={"radio_options": ["user.view"]}).status_code == 200


def test_cashier_cannot_be_renamed(app, api, acme):
    """Renamed, it would no longer be the built-in Cashier and would lock itself."""
    cashier_id = role_id_named(app, acme, "Cashier")
    response = api.patch(f"{ROLES}/{cashier_id}", json={"name": "Till"})
    assert response.status_code == 422
    assert response.json == invalid("name", "The built-in Cashier role cannot be renamed.")
    assert role_row(app, cashier_id).name == f"Cashier#{acme.business_id}"


def test_cashier_can_be_deleted(app, api, acme):
    cashier_id = role_id_named(app, acme, "Cashier")
    response = api.delete(f"{ROLES}/{cashier_id}")
    assert response.status_code == 200
    assert response.json == {"message": "Deleted", "data": {"id": cashier_id}}
    assert role_row(app, cashier_id) is None


# --- delete --------------------------------------------------------------------------

def test_delete_role(app, api, acme):
    role_id = add_role(app, acme, "Sales", ["roles.view"])

    response = api.delete(f"{ROLES}/{role_id}")

    assert response.status_code == 200
    assert response.json == {"message": "Deleted", "data": {"id": role_id}}
    assert role_row(app, role_id) is None
    assert api.get(f"{ROLES}/{role_id}").json == NOT_FOUND
    assert api.delete(f"{ROLES}/{role_id}").json == NOT_FOUND
    assert events(app, "role.deleted") == [{"id": role_id}]
    with app.app_context():
        from app.team.models import role_permissions
        assert db.session.execute(select(role_permissions).where(role_permissions.c.role_id == role_id)).all() == []


@pytest.mark.parametrize("held_by, message", [
    (1, "This role is assigned to 1 user. Give them another role before deleting it."),
    (2, "This role is assigned to 2 users. Give them another role before deleting it."),
])
def test_role_users_hold_cannot_be_deleted(app, api, acme, held_by, message):
    role_id = add_role(app, acme, "Sales")
    for n in range(held_by):
        set_role(app, make_user(app, acme, f"u{n}@acme.example"), role_id)

    response = api.delete(f"{ROLES}/{role_id}")

    assert response.status_code == 422
    assert response.json == {"message": message}
    assert role_row(app, role_id) is not None
    assert events(app, "role.deleted") == []


def test_role_only_deleted_users_hold_can_be_deleted(app, api, acme):
    from app.team.models import User

    role_id = add_role(app, acme, "Sales")
    user_id = make_user(app, acme, "gone@acme.example")
    set_role(app, user_id, role_id, deleted=True)

    assert api.delete(f"{ROLES}/{role_id}").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.id == user_id).execution_options(all_tenants=True))
        assert user.role_id is None


# --- demo mode -----------------------------------------------------------------------

def test_demo_mode_refuses_writes(app, api, acme):
    role_id = add_role(app, acme, "Sales", ["roles.view"])
    set_demo_mode(app, acme)

    for response in (api.post(ROLES, json={"name": "New"}),
                     api.put(f"{ROLES}/{role_id}", json={"name": "Renamed"}),
                     api.patch(f"{ROLES}/{role_id}", json={"name": "Renamed"}),
                     api.delete(f"{ROLES}/{role_id}")):
        assert response.status_code == 403
        assert response.json == DEMO
    assert role_row(app, role_id).name == f"Sales#{acme.business_id}"
    assert names(api.get(ROLES)) == ["Admin", "Cashier", "Sales"]
    assert api.get(f"{ROLES}/{role_id}").status_code == 200


def test_demo_mode_of_another_business_does_not_matter(app, api, globex):
    set_demo_mode(app, globex)
    assert api.post(ROLES, json={"name": "New"}).status_code == 201


def test_without_permission_demo_mode_is_still_unauthorized(app, api_as, acme):
    set_demo_mode(app, acme)
    user = make_user(app, acme, "viewer@acme.example", permissions=["roles.view"])
    response = api_as(user).post(ROLES, json={"name": "New"})
    assert response.status_code == 403
    assert response.json == UNAUTHORIZED


# --- permissions ---------------------------------------------------------------------

@pytest.fixture
def role_id(app, acme):
    return add_role(app, acme, "Sales", ["roles.view"])


def _calls(role_id):
    return {
        "list": ("get", ROLES, None),
        "csv": ("get", f"{ROLES}?format=csv", None),
        "show": ("get", f"{ROLES}/{role_id}", None),
        "show_csv": ("get", f"{ROLES}/{role_id}?format=csv", None),
        "create": ("post", ROLES, {"name": "New"}),
        "put": ("put", f"{ROLES}/{role_id}", {"name": "Renamed"}),
        "patch": ("patch", f"{ROLES}/{role_id}", {"name": "Renamed"}),
        "delete": ("delete", f"{ROLES}/{role_id}", None),
    }


def _send(client, call):
    method, url, body = call
    return getattr(client, method)(url, json=body) if body else getattr(client, method)(url)


CALL_PERMISSIONS = [
    ("list", "roles.view"), ("csv", "roles.view"), ("show", "roles.view"), ("show_csv", "roles.view"),
    ("create", "roles.create"), ("put", "roles.update"), ("patch", "roles.update"), ("delete", "roles.delete"),
]


@pytest.mark.parametrize("call", [c for c, _ in CALL_PERMISSIONS])
def test_user_without_permissions_gets_403(app, api_as, acme, role_id, call):
    user = make_user(app, acme, "nobody@acme.example", permissions=[])
    response = _send(api_as(user), _calls(role_id)[call])
    assert response.status_code == 403
    assert response.json == UNAUTHORIZED
    assert role_row(app, role_id).name == f"Sales#{acme.business_id}"


@pytest.mark.parametrize("call, permission", CALL_PERMISSIONS)
def test_each_call_needs_its_own_permission(app, api_as, acme, role_id, call, permission):
    others = sorted({p for _, p in CALL_PERMISSIONS} - {permission})
    lacking = make_user(app, acme, "lacking@acme.example", permissions=others)
    response = _send(api_as(lacking), _calls(role_id)[call])
    assert response.status_code == 403
    assert response.json == UNAUTHORIZED

    # The role changed holds roles.view: only someone who holds it too may change it.
    allowed = make_user(app, acme, "allowed@acme.example", permissions=sorted({permission, "roles.view"}))
    response = _send(api_as(allowed), _calls(role_id)[call])
    assert response.status_code in (200, 201), response.get_data(as_text=True)


@pytest.mark.parametrize("call, permission", CALL_PERMISSIONS)
def test_token_abilities_narrow_the_role(app, api_as, acme, role_id, call, permission):
    """The owner's Admin role allows everything; a token without the ability does not."""
    others = sorted({p for _, p in CALL_PERMISSIONS} - {permission})
    response = _send(api_as(acme.owner_id, abilities=others), _calls(role_id)[call])
    assert response.status_code == 403
    assert response.json == UNAUTHORIZED

    response = _send(api_as(acme.owner_id, abilities=sorted({permission, "roles.view"})), _calls(role_id)[call])
    assert response.status_code in (200, 201), response.get_data(as_text=True)


def test_permission_is_checked_before_existence(app, api_as, acme):
    user = make_user(app, acme, "nobody@acme.example", permissions=[])
    for call in ("get", "delete"):
        assert getattr(api_as(user), call)(f"{ROLES}/424242").status_code == 403


def test_no_credential_is_401(client):
    response = client.get(ROLES)
    assert response.status_code == 401
    assert response.json == {"message": "Unauthenticated."}


# --- tenancy -------------------------------------------------------------------------

def test_role_of_another_business_is_404(app, api, acme, globex):
    globex_id = add_role(app, globex, "Globex Sales", ["roles.view"])
    globex_admin = role_id_named(app, globex, "Admin")

    for target in (globex_id, globex_admin):
        for response in (
            api.get(f"{ROLES}/{target}"),
            api.get(f"{ROLES}/{target}?format=csv"),
            api.put(f"{ROLES}/{target}", json={"name": "Taken"}),
            api.patch(f"{ROLES}/{target}", json={"name": "Taken"}),
            api.delete(f"{ROLES}/{target}"),
        ):
            assert response.status_code == 404
            assert response.json == NOT_FOUND
    row = role_row(app, globex_id)
    assert (row.name, row.business_id, row.permission_names) == (
        f"Globex Sales#{globex.business_id}", globex.business_id, ["roles.view"])

    assert names(api.get(ROLES)) == ["Admin", "Cashier"]
    assert api.get(ROLES).json["meta"]["total"] == 2
    assert names(api.get(f"{ROLES}?q=Globex")) == []
    assert names(api.get(f"{ROLES}?q=%23{globex.business_id}")) == []
    assert [row[1] for row in read_csv(api.get(f"{ROLES}?format=csv"))[1:]] == ["Admin", "Cashier"]


def test_users_of_another_business_are_not_counted(app, api, acme, globex):
    make_user(app, globex, "g@globex.example", role_name="Admin")  # Globex's own Admin
    admin = api.get(f"{ROLES}/{role_id_named(app, acme, 'Admin')}").json["data"]
    assert admin["users_count"] == 1


# --- list ----------------------------------------------------------------------------

@pytest.fixture
def staffed(app, acme):
    """Sales (2 users), Floor (1), Bakery (0), plus the default Admin (the owner) and Cashier."""
    ids = {name: add_role(app, acme, name) for name in ("Sales", "Floor", "Bakery")}
    for n, name in enumerate(["Sales", "Sales", "Floor"]):
        make_user(app, acme, f"u{n}@acme.example", role_name=name)
    return ids


def test_list_defaults_to_name_order_with_meta_and_links(app, api, acme, staffed):
    response = api.get(ROLES)

    assert response.status_code == 200
    body = response.json
    assert [row["name"] for row in body["data"]] == ["Admin", "Bakery", "Cashier", "Floor", "Sales"]
    assert body["data"][-1] == listed(role_row(app, staffed["Sales"]))
    assert [row["users_count"] for row in body["data"]] == [1, 0, 0, 1, 2]
    assert body["meta"] == {"current_page": 1, "last_page": 1, "per_page": 20, "total": 5, "from": 1, "to": 5}
    link = "http://localhost/api/v1/roles?page=1&per_page=20&sort=name&direction=asc"
    assert body["links"] == {"first": link, "last": link, "prev": None, "next": None}


def test_list_items_have_no_detail_fields(api, staffed):
    row = api.get(ROLES).json["data"][0]
    assert set(row) == {"id", "name", "name_key", "name_storage", "is_default", "is_service_staff", "users_count",
                        "created_at"}


@pytest.mark.parametrize("query, found", [
    # Ties go by id, in the same direction (Admin and Cashier are the oldest).
    ("sort=users_count&direction=desc", ["Sales", "Floor", "Admin", "Bakery", "Cashier"]),
    ("sort=-users_count", ["Sales", "Floor", "Admin", "Bakery", "Cashier"]),
    ("sort=users_count", ["Cashier", "Bakery", "Admin", "Floor", "Sales"]),
    ("sort=name&direction=desc", ["Sales", "Floor", "Cashier", "Bakery", "Admin"]),
    ("sort=created_at", ["Admin", "Cashier", "Sales", "Floor", "Bakery"]),
    ("orderby=name&order=desc", ["Sales", "Floor", "Cashier", "Bakery", "Admin"]),
    ("q=al", ["Sales"]),
    ("q=AL", ["Sales"]),
    ("search=flo", ["Floor"]),
    ("q=sa&search=flo", ["Sales"]),  # q wins over the alias
    ("q=nobody", []),
    ("per_page=2&page=2", ["Cashier", "Floor"]),
])
def test_list_sort_search_and_pages(app, api, acme, staffed, query, found):
    assert names(api.get(f"{ROLES}?{query}")) == found


def test_q_matches_the_stored_name(app, api, acme, staffed):
    assert len(names(api.get(f"{ROLES}?q=%23{acme.business_id}"))) == 5


@pytest.mark.parametrize("query, field, message", [
    ("q=a", "q", "The q field must be at least 2 characters."),
    ("sort=nope", "sort", "The selected sort is invalid."),
    ("direction=up", "direction", "The selected direction is invalid."),
    ("per_page=101", "per_page", "The per page must be between 1 and 100."),
    ("page=0", "page", "The page must be at least 1."),
])
def test_bad_list_parameters_are_422(api, query, field, message):
    response = api.get(f"{ROLES}?{query}")
    assert response.status_code == 422
    assert response.json == invalid(field, message)


def test_list_as_csv_has_bom_header_and_every_row(app, api, acme, staffed):
    response = api.get(f"{ROLES}?format=csv&per_page=2&page=2&sort=-users_count")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="roles.csv"'
    assert response.get_data().startswith(b"\xef\xbb\xbf" + LIST_HEADER.encode() + b"\r\n")
    rows = read_csv(response)
    assert rows[0] == LIST_HEADER.split(",")
    assert [row[1] for row in rows[1:]] == ["Sales", "Floor", "Admin", "Bakery", "Cashier"]
    sales = listed(role_row(app, staffed["Sales"]))
    assert rows[1] == [str(sales["id"]), "Sales", "Sales", f"Sales#{acme.business_id}", "0", "0", "2",
                       sales["created_at"]]


def test_csv_follows_search(api, staffed):
    rows = read_csv(api.get(f"{ROLES}?format=csv&q=al"))
    assert [row[1] for row in rows[1:]] == ["Sales"]


def test_csv_with_bad_parameters_is_json_422(api):
    response = api.get(f"{ROLES}?format=csv&q=a")
    assert response.status_code == 422
    assert response.json == invalid("q", "The q field must be at least 2 characters.")


# --- writes and the outbox -----------------------------------------------------------

def test_failed_write_records_no_event_and_leaves_no_row(app, api):
    api.post(ROLES, json={"name": "Bad#"})
    assert names(api.get(ROLES)) == ["Admin", "Cashier"]
    assert events(app, "role.created") == []


def test_idempotent_create_replays(app, api):
    headers = {"Idempotency-Key": "role-1"}
    first = api.post(ROLES, json={"name": "Sales"}, headers=headers)
    again = api.post(ROLES, json={"name": "Sales"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert names(api.get(ROLES)) == ["Admin", "Cashier", "Sales"]
