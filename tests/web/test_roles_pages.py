"""Roles screens: list with user counts, live search, grouped permission checkboxes,
locked default roles, the editable Cashier, delete."""
import re

import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.team.models import Role
from app.team.services import ensure_permissions
from tests.conftest import make_user


def _role(app, business_id, name):
    with app.app_context():  # permissions load with the role (selectin)
        return db.session.scalar(select(Role).where(Role.name == f"{name}#{business_id}")
                                 .execution_options(all_tenants=True))


@pytest.fixture
def seeded(app, acme, globex):
    make_user(app, acme, "clerk1@acme.example", ["locations.view"], role_name="Clerk")
    make_user(app, acme, "clerk2@acme.example", ["locations.view"], role_name="Clerk")
    with app.app_context():
        with tenant_scope(acme.business_id):
            db.session.add(Role(name=f"Unused#{acme.business_id}", is_service_staff=True))
        with tenant_scope(globex.business_id):
            db.session.add(Role(name=f"Globex Secret Role#{globex.business_id}"))
        db.session.commit()


def test_list_shows_own_roles_with_user_counts(owner_browser, seeded):
    html = owner_browser.get("/team/roles/").get_data(as_text=True)
    assert "Globex Secret Role" not in html
    rows = html.split('data-testid="role-row"')[1:]
    by_name = {name: row for row in rows for name in ("Admin", "Cashier", "Clerk", "Unused") if f">{name}</a>" in row}
    assert set(by_name) == {"Admin", "Cashier", "Clerk", "Unused"}
    assert '<td class="text-end" data-testid="users-count">2</td>' in by_name["Clerk"]
    assert '<td class="text-end" data-testid="users-count">1</td>' in by_name["Admin"]  # the owner
    assert '<td class="text-end" data-testid="users-count">0</td>' in by_name["Unused"]
    assert "Default · locked" in by_name["Admin"] and ">Delete<" not in by_name["Admin"]
    assert "Default · locked" not in by_name["Cashier"] and ">Default<" in by_name["Cashier"]
    assert "Add role" in html and ">Roles</a>" in html


def test_sort_by_users_count_is_in_the_url(owner_browser, seeded):
    html = owner_browser.get("/team/roles/?sort=users_count&direction=desc").get_data(as_text=True)
    assert html.index(">Clerk</a>") < html.index(">Admin</a>") < html.index(">Unused</a>")


def test_live_search_returns_only_the_results_fragment(owner_browser, seeded):
    response = owner_browser.get("/team/roles/?q=cle", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in html and 'aria-label="Team"' not in html
    assert ">Clerk</a>" in html and ">Admin</a>" not in html


def test_create_with_missing_name_shows_inline_error_and_writes_nothing(app, owner_browser, acme):
    response = owner_browser.post("/team/roles/new", data={"name": "  ", "permissions": ["roles.view"]})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field-error="name"' in html and "The name field is required." in html
    assert 'value="roles.view" id="perm-group-' in html and "checked" in html.split('value="roles.view"')[1][:80]
    with app.app_context(), tenant_scope(acme.business_id):
        assert len(db.session.scalars(select(Role)).all()) == 2  # Admin and Cashier only


def test_create_stores_exactly_the_ticked_permissions(app, owner_browser, acme):
    response = owner_browser.post("/team/roles/new", data={
        "name": "Manager", "is_service_staff": "y",
        "permissions": ["roles.view", "roles.update", "locations.view"]})
    assert response.status_code == 302
    role = _role(app, acme.business_id, "Manager")
    assert role.permission_names == ["locations.view", "roles.update", "roles.view"]
    assert role.is_service_staff is True and role.is_default is False
    assert "Role “Manager” added." in owner_browser.get("/team/roles/").get_data(as_text=True)


def test_edit_shows_and_keeps_unknown_permissions(app, owner_browser, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        role = Role(name=f"Legacy#{acme.business_id}", permissions=ensure_permissions(["roles.view", "legacy.reports"]))
        db.session.add(role)
        db.session.commit()
        role_id = role.id
    html = owner_browser.get(f"/team/roles/{role_id}/edit").get_data(as_text=True)
    assert ">Other</legend>" in html and 'value="legacy.reports"' in html
    assert 'value="Legacy"' in html and ">Save</button>" in html
    # The browser sends back every ticked box, the unknown one included.
    response = owner_browser.post(f"/team/roles/{role_id}/edit", data={
        "name": "Legacy Staff", "permissions": ["roles.view", "roles.create", "legacy.reports"]})
    assert response.status_code == 302
    role = _role(app, acme.business_id, "Legacy Staff")
    assert role.id == role_id
    assert role.permission_names == ["legacy.reports", "roles.create", "roles.view"]


def test_admin_role_is_locked(app, owner_browser, acme):
    admin = _role(app, acme.business_id, "Admin")
    html = owner_browser.get(f"/team/roles/{admin.id}/edit").get_data(as_text=True)
    assert 'data-testid="locked"' in html and "cannot be changed" in html
    assert ">Save</button>" not in html and "<fieldset disabled" in html
    response = owner_browser.post(f"/team/roles/{admin.id}/edit", data={"name": "Boss", "permissions": ["roles.view"]})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Default roles cannot be edited." in html and ">Save</button>" not in html
    after = _role(app, acme.business_id, "Admin")
    assert after.id == admin.id and after.permission_names == admin.permission_names
    assert owner_browser.post(f"/team/roles/{admin.id}/delete").status_code == 303
    assert "Default roles cannot be deleted." in owner_browser.get("/team/roles/").get_data(as_text=True)
    assert _role(app, acme.business_id, "Admin") is not None


def test_cashier_permissions_are_editable_but_not_its_name(app, owner_browser, acme):
    cashier = _role(app, acme.business_id, "Cashier")
    html = owner_browser.get(f"/team/roles/{cashier.id}/edit").get_data(as_text=True)
    assert ">Save</button>" in html and "<fieldset disabled" not in html
    name_input = re.search(r'<input[^>]*name="name"[^>]*>', html).group(0)
    assert "readonly" in name_input and 'value="Cashier"' in name_input
    response = owner_browser.post(f"/team/roles/{cashier.id}/edit", data={
        "name": "Cashier", "permissions": ["locations.view", "roles.view"], "is_service_staff": "y"})
    assert response.status_code == 302
    after = _role(app, acme.business_id, "Cashier")
    assert after.permission_names == ["locations.view", "roles.view"] and after.is_service_staff is True
    response = owner_browser.post(f"/team/roles/{cashier.id}/edit", data={"name": "Till", "permissions": []})
    assert response.status_code == 422
    assert "The built-in Cashier role cannot be renamed." in response.get_data(as_text=True)
    assert _role(app, acme.business_id, "Cashier").permission_names == ["locations.view", "roles.view"]


def test_delete_unused_role_and_refuse_a_used_one(app, owner_browser, acme, seeded):
    unused = _role(app, acme.business_id, "Unused")
    response = owner_browser.post(f"/team/roles/{unused.id}/delete", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/team/roles/"
    assert _role(app, acme.business_id, "Unused") is None
    assert "Role “Unused” deleted." in owner_browser.get("/team/roles/").get_data(as_text=True)

    clerk = _role(app, acme.business_id, "Clerk")
    response = owner_browser.post(f"/team/roles/{clerk.id}/delete", headers={"HX-Request": "true"})
    assert response.status_code == 204
    html = owner_browser.get("/team/roles/").get_data(as_text=True)
    assert "This role is assigned to 2 users. Give them another role before deleting it." in html
    assert _role(app, acme.business_id, "Clerk") is not None


def test_other_business_role_is_404(app, owner_browser, seeded, globex):
    secret = _role(app, globex.business_id, "Globex Secret Role")
    assert owner_browser.get(f"/team/roles/{secret.id}/edit").status_code == 404
    assert owner_browser.post(f"/team/roles/{secret.id}/edit", data={"name": "x"}).status_code == 404
    assert owner_browser.post(f"/team/roles/{secret.id}/delete").status_code == 404
    assert _role(app, globex.business_id, "Globex Secret Role") is not None


def test_permissions_hide_and_enforce(app, browser_as, acme, seeded):
    make_user(app, acme, "nobody@acme.example", ["locations.view"])
    nobody = browser_as("nobody@acme.example", "user-password")
    assert nobody.get("/team/roles/").status_code == 403
    assert ">Roles</a>" not in nobody.get("/team/locations/").get_data(as_text=True)

    make_user(app, acme, "viewer@acme.example", ["roles.view"])
    viewer = browser_as("viewer@acme.example", "user-password")
    html = viewer.get("/team/roles/").get_data(as_text=True)
    assert ">Clerk</a>" in html
    assert "Add role" not in html and ">Delete<" not in html and ">Edit<" not in html
    clerk = _role(app, acme.business_id, "Clerk")
    assert viewer.get("/team/roles/new").status_code == 403
    assert viewer.post("/team/roles/new", data={"name": "Sneaky"}).status_code == 403
    html = viewer.get(f"/team/roles/{clerk.id}/edit").get_data(as_text=True)
    assert 'data-testid="read-only"' in html and ">Save</button>" not in html
    assert viewer.post(f"/team/roles/{clerk.id}/edit", data={"name": "Renamed"}).status_code == 403
    assert viewer.post(f"/team/roles/{clerk.id}/delete").status_code == 403
    assert _role(app, acme.business_id, "Clerk") is not None
