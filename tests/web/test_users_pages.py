"""Team → Users screens: list, live search, filters, create/edit with inline errors, the
active switch, delete, permissions, other businesses, CSRF."""
import re

import pytest
from sqlalchemy import select

from app.auth.passwords import hash_password, verify_password
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.team.models import Business, Role, User
from tests.api.conftest import add_locations
from tests.api.test_commission_agents import add_agents
from tests.conftest import make_user


def _role_id(app, tenant, name):
    with app.app_context():
        stmt = select(Role.id).where(Role.name == f"{name}#{tenant.business_id}").execution_options(all_tenants=True)
        return db.session.scalar(stmt)


def _add(app, tenant, **fields) -> int:
    with app.app_context(), tenant_scope(tenant.business_id):
        user = User(**{"allow_login": False, "status": "active", **fields})
        db.session.add(user)
        db.session.commit()
        return user.id


def _user(app, user_id):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.id == user_id).execution_options(all_tenants=True))
        with tenant_scope(user.business_id):
            user.locations  # noqa: B018
            user.role  # noqa: B018
        db.session.expunge_all()
        return user


def _named(app, first_name):
    with app.app_context():
        stmt = select(User).where(User.first_name == first_name).execution_options(all_tenants=True)
        user = db.session.scalar(stmt)
        if user is not None:
            with tenant_scope(user.business_id):
                user.locations  # noqa: B018
            db.session.expunge_all()
        return user


def _count(app, tenant):
    with app.app_context(), tenant_scope(tenant.business_id):
        return len(db.session.scalars(select(User).where(User.is_cmmsn_agnt.is_(False),
                                                         User.deleted_at.is_(None))).all())


@pytest.fixture
def seeded(app, acme, globex):
    cashier = _role_id(app, acme, "Cashier")
    ids = {
        "bob": _add(app, acme, first_name="Bob", last_name="Baker", email="bob@acme.example", role_id=cashier,
                    username="bobb", allow_login=True, password_hash=hash_password("bob-password")),
        "cleo": _add(app, acme, first_name="Cleo", last_name="Clerk", role_id=cashier, status="inactive"),
        "secret": _add(app, globex, first_name="Globex", last_name="Secret", role_id=_role_id(app, globex, "Cashier")),
    }
    add_agents(app, acme, {"first_name": "Agent", "last_name": "Smith"})
    return ids


def _table(response) -> str:
    """The list's table only (the signed-in user's name is in the menu too)."""
    html = response.get_data(as_text=True)
    return html[html.index('data-testid="users-table"'):]


def _form(**fields) -> dict:
    return {"first_name": "Dana", "role": "", "location_access": "all", "is_active": "y", **fields}


# --- list ----------------------------------------------------------------------------

def test_list_shows_own_staff_only(owner_browser, seeded):
    response = owner_browser.get("/team/users")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Bob Baker" in html and "Cleo Clerk" in html and "Owner Acme" in html
    assert "bobb" in html and "No login" in html and "Cashier" in html
    assert "Globex Secret" not in html and "Agent Smith" not in html
    assert "Showing 1–3 of 3" in html
    assert html.count('data-testid="user-row"') == 3
    assert 'href="/team/users/new"' in html  # the owner may add users


def test_live_search_returns_only_the_results_fragment(owner_browser, seeded):
    response = owner_browser.get("/team/users?q=bak", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in html and 'id="user-search"' not in html
    assert "Bob Baker" in html and "Cleo Clerk" not in html


def test_filters_and_sort_are_in_the_url(app, owner_browser, acme, seeded):
    cashier = _role_id(app, acme, "Cashier")
    html = owner_browser.get("/team/users?status=inactive").get_data(as_text=True)
    assert "Cleo Clerk" in html and "Bob Baker" not in html
    assert '<option value="inactive" selected' in html
    html = owner_browser.get(f"/team/users?role_id={cashier}&status=active").get_data(as_text=True)
    assert "Bob Baker" in html and f'id="user-{acme.owner_id}"' not in html and "Cleo Clerk" not in html
    assert f'<option value="{cashier}" selected' in html
    html = _table(owner_browser.get("/team/users?sort=name&direction=asc"))
    assert html.index("Bob Baker") < html.index("Cleo Clerk") < html.index("Owner Acme")
    assert 'aria-sort="ascending"' in html
    html = _table(owner_browser.get("/team/users?sort=name&direction=desc"))
    assert html.index("Owner Acme") < html.index("Cleo Clerk") < html.index("Bob Baker")
    response = owner_browser.get("/team/users?status=retired")
    assert response.status_code == 200 and "alert-warning" in response.get_data(as_text=True)


def test_user_content_is_escaped(app, owner_browser, acme):
    _add(app, acme, first_name="<script>alert(1)</script>")
    html = owner_browser.get("/team/users").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- create --------------------------------------------------------------------------

def test_create_form_has_roles_locations_and_csrf(app, owner_browser, acme):
    add_locations(app, acme, {"name": "Bath Shop", "code": "B1"})
    html = owner_browser.get("/team/users/new").get_data(as_text=True)
    assert 'name="csrf_token"' in html
    assert ">Admin</option>" in html and ">Cashier</option>" in html
    assert 'name="location_ids"' in html and "Bath Shop" in html
    assert 'data-show-if="#allow_login"' in html and 'name="password"' in html  # present without JS


def test_create_with_errors_shows_them_next_to_the_fields(app, owner_browser, acme):
    response = owner_browser.post("/team/users/new", data=_form(
        first_name="", last_name="Keeper", allow_login="y", password="123", location_access="locations"))

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field, message in [
        ("first_name", "The first name field is required."),
        ("role", "The role field is required."),
        ("password", "The password must be at least 6 characters."),
        ("location_access", "The location access.location ids field is required when location access.scope is"
                            " locations."),
    ]:
        assert re.search(rf'data-field-error="{field}">{re.escape(message)}<', html), field
    assert 'value="Keeper"' in html  # what was typed is kept
    assert 'id="scope-locations" value="locations" checked' in html
    assert _count(app, acme) == 1


def test_create_with_login_and_chosen_locations(app, owner_browser, acme):
    shops = add_locations(app, acme, {"name": "Bath Shop", "code": "B1"}, {"name": "Bristol", "code": "B2"})
    cashier = _role_id(app, acme, "Cashier")

    response = owner_browser.post("/team/users/new", data=_form(
        surname="Ms", last_name="Deal", email="dana@acme.example", contact_number="0700 222", role=str(cashier),
        allow_login="y", username="", password="secret1", location_access="locations", location_ids=[str(shops[1])]))

    assert response.status_code == 302 and response.headers["Location"] == "/team/users"
    user = _named(app, "Dana")
    assert (user.business_id, user.role_id, user.allow_login, user.username, user.status) == (
        acme.business_id, cashier, True, "dana.deal", "active")
    assert verify_password(user.password_hash, "secret1")
    assert (user.location_scope, [loc.id for loc in user.locations]) == ("locations", [shops[1]])
    html = owner_browser.get("/team/users").get_data(as_text=True)
    assert "User “Ms Dana Deal” added. They sign in as dana.deal." in html


def test_create_without_login_ignores_username_and_password(app, owner_browser, acme):
    cashier = _role_id(app, acme, "Cashier")
    response = owner_browser.post("/team/users/new", data=_form(role=str(cashier), username="dana",
                                                               password="whatever"))
    assert response.status_code == 302
    user = _named(app, "Dana")
    assert (user.allow_login, user.username, user.password_hash) == (False, None, None)


def test_quota_and_demo_mode_are_shown_above_the_form(app, owner_browser, acme):
    cashier = _role_id(app, acme, "Cashier")
    with app.app_context():
        db.session.get(Business, acme.business_id).user_quota = 1
        db.session.commit()
    response = owner_browser.post("/team/users/new", data=_form(role=str(cashier)))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="form-error"' in html and "The user quota of this business (1 user) is used up." in html
    with app.app_context():
        business = db.session.get(Business, acme.business_id)
        business.user_quota, business.demo_mode = None, True
        db.session.commit()
    response = owner_browser.post("/team/users/new", data=_form(role=str(cashier)))
    assert response.status_code == 403
    assert "Users cannot be changed while the business is in demo mode." in response.get_data(as_text=True)
    assert _count(app, acme) == 1


# --- edit ----------------------------------------------------------------------------

def test_edit_shows_the_user_and_saves(app, owner_browser, acme, seeded):
    shops = add_locations(app, acme, {"name": "Bath Shop", "code": "B1"}, {"name": "Bristol", "code": "B2"})
    bob = seeded["bob"]
    before = _user(app, bob)
    html = owner_browser.get(f"/team/users/{bob}/edit").get_data(as_text=True)
    assert 'value="Bob"' in html and 'value="bobb"' in html and 'name="csrf_token"' in html
    assert f'<option selected value="{before.role_id}">Cashier</option>' in html
    assert 'id="allow_login" name="allow_login" role="switch" type="checkbox" value="y"' in html
    assert f'href="/team/users/{bob}/tokens"' in html

    admin = _role_id(app, acme, "Admin")
    response = owner_browser.post(f"/team/users/{bob}/edit", data=_form(
        first_name="Robert", last_name="Baker", email="bob@acme.example", role=str(admin), allow_login="y",
        username="bobb", password="", location_access="locations", location_ids=[str(shops[0])]))

    assert response.status_code == 302
    after = _user(app, bob)
    assert (after.first_name, after.role_id, after.username) == ("Robert", admin, "bobb")
    assert after.password_hash == before.password_hash  # blank keeps the password
    assert [loc.id for loc in after.locations] == [shops[0]]
    html = owner_browser.get(f"/team/users/{bob}/edit").get_data(as_text=True)
    assert f'value="{shops[0]}" id="location-{shops[0]}" checked' in html


def test_edit_switching_login_off_clears_it(app, owner_browser, seeded, acme):
    bob = seeded["bob"]
    response = owner_browser.post(f"/team/users/{bob}/edit", data=_form(
        first_name="Bob", role=str(_role_id(app, acme, "Cashier")), username="bobb"))
    assert response.status_code == 302
    user = _user(app, bob)
    assert (user.allow_login, user.username, user.password_hash) == (False, None, None)


def test_last_admin_role_error_sits_at_the_role(app, owner_browser, acme):
    response = owner_browser.post(f"/team/users/{acme.owner_id}/edit", data=_form(
        first_name="Owner", role=str(_role_id(app, acme, "Cashier")), allow_login="y"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field-error="role">This is the only admin of the business; make another user an admin first.<' in html
    assert _user(app, acme.owner_id).role_id == _role_id(app, acme, "Admin")


# --- the active switch ---------------------------------------------------------------

def test_toggle_swaps_the_row(app, owner_browser, seeded):
    bob = seeded["bob"]
    response = owner_browser.post(f"/team/users/{bob}/toggle", headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.strip().startswith(f'<tr data-testid="user-row" id="user-{bob}">')
    assert "<html" not in html and "Inactive" in html and 'aria-checked="false"' in html
    assert "trellis:flash" in response.headers["HX-Trigger"] and "is now inactive" in response.headers["HX-Trigger"]
    assert _user(app, bob).status == "inactive"

    response = owner_browser.post(f"/team/users/{bob}/toggle")  # without JS: back to the list
    assert response.status_code == 303
    assert _user(app, bob).status == "active"
    assert "“Bob Baker” is now active." in owner_browser.get("/team/users").get_data(as_text=True)


def test_toggle_yourself_is_refused(app, owner_browser, acme):
    html = owner_browser.get("/team/users").get_data(as_text=True)
    assert f"/team/users/{acme.owner_id}/toggle" not in html  # no switch on your own row
    response = owner_browser.post(f"/team/users/{acme.owner_id}/toggle", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "You cannot deactivate your own user account." in response.headers["HX-Trigger"]
    assert _user(app, acme.owner_id).status == "active"


# --- delete --------------------------------------------------------------------------

def test_delete_with_confirm_is_soft(app, owner_browser, seeded):
    bob = seeded["bob"]
    html = owner_browser.get("/team/users").get_data(as_text=True)
    assert 'hx-confirm="Delete user “Bob Baker”?' in html

    response = owner_browser.post(f"/team/users/{bob}/delete", headers={"HX-Request": "true"})

    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/team/users"
    assert _user(app, bob).deleted_at is not None
    html = owner_browser.get("/team/users").get_data(as_text=True)
    assert "User “Bob Baker” deleted." in html and "bobb" not in html


def test_delete_yourself_is_refused(app, owner_browser, acme):
    response = owner_browser.post(f"/team/users/{acme.owner_id}/delete")
    assert response.status_code == 303
    assert "Cannot delete your own user account" in owner_browser.get("/team/users").get_data(as_text=True)
    assert _user(app, acme.owner_id).deleted_at is None


# --- permissions and tenancy ---------------------------------------------------------

def test_viewer_sees_the_list_without_buttons_and_cannot_write(app, browser_as, acme, seeded):
    make_user(app, acme, "viewer@acme.example", permissions=["user.view"])
    viewer = browser_as("viewer@acme.example", "user-password")
    bob = seeded["bob"]

    html = viewer.get("/team/users").get_data(as_text=True)
    assert "Bob Baker" in html
    assert "/team/users/new" not in html and "/edit" not in html and "/toggle" not in html
    assert "/delete" not in html and f"/team/users/{bob}/tokens" not in html
    assert viewer.get("/team/users/new").status_code == 403
    assert viewer.post("/team/users/new", data=_form()).status_code == 403
    assert viewer.get(f"/team/users/{bob}/edit").status_code == 403
    assert viewer.post(f"/team/users/{bob}/edit", data=_form()).status_code == 403
    assert viewer.post(f"/team/users/{bob}/toggle").status_code == 403
    assert viewer.post(f"/team/users/{bob}/delete").status_code == 403
    user = _user(app, bob)
    assert (user.first_name, user.status, user.deleted_at) == ("Bob", "active", None)
    assert _count(app, acme) == 4


def test_without_user_permissions_the_list_is_403_and_the_tab_hidden(app, browser_as, acme):
    make_user(app, acme, "stock@acme.example", permissions=["locations.view"])
    stock = browser_as("stock@acme.example", "user-password")
    assert stock.get("/team/users").status_code == 403
    assert 'href="/team/users"' not in stock.get("/team/locations/").get_data(as_text=True)


def test_user_of_another_business_is_404(app, owner_browser, seeded):
    secret = seeded["secret"]
    for response in (owner_browser.get(f"/team/users/{secret}/edit"),
                     owner_browser.post(f"/team/users/{secret}/edit", data=_form(first_name="Taken")),
                     owner_browser.post(f"/team/users/{secret}/toggle"),
                     owner_browser.post(f"/team/users/{secret}/delete"),
                     owner_browser.get(f"/team/users/{secret}/tokens"),
                     owner_browser.get("/team/users/424242/edit")):
        assert response.status_code == 404
    user = _user(app, secret)
    assert (user.first_name, user.status, user.deleted_at) == ("Globex", "active", None)


def test_forms_need_the_csrf_token(app, owner_browser, seeded):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        bob = seeded["bob"]
        for url in ("/team/users/new", f"/team/users/{bob}/edit", f"/team/users/{bob}/toggle",
                    f"/team/users/{bob}/delete"):
            assert owner_browser.post(url, data=_form(first_name="Forged")).status_code == 400
        html = owner_browser.get("/team/users").get_data(as_text=True)
        # Each other user's row: the switch and delete forms; and the menu's two sign-out forms.
        assert html.count('data-testid="toggle"') == 2
        assert html.count('name="csrf_token"') == 2 * 2 + 2
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    user = _user(app, seeded["bob"])
    assert (user.first_name, user.status, user.deleted_at) == ("Bob", "active", None)


def test_saving_the_form_keeps_selected_contacts(app, owner_browser, acme, seeded):
    """Saving the form as the edit page renders it (switch on, the chosen contacts ticked) keeps the access."""
    from app.pipelines.models import Contact
    from app.team.models import user_contacts

    bob = seeded["bob"]
    with app.app_context(), tenant_scope(acme.business_id):
        contact = Contact(first_name="Ada", last_name="Lovelace")
        db.session.add(contact)
        db.session.flush()
        user = db.session.get(User, bob)
        user.selected_contacts = True
        db.session.execute(user_contacts.insert().values(user_id=bob, contact_id=contact.id))
        db.session.commit()
        contact_id = contact.id
    page = owner_browser.get(f"/team/users/{bob}/edit").get_data(as_text=True)
    assert f'value="{contact_id}" id="chosen-contact-{contact_id}" checked' in page
    response = owner_browser.post(f"/team/users/{bob}/edit", data=_form(
        first_name="Bob", role=str(_role_id(app, acme, "Cashier")), allow_login="y", username="bobb",
        selected_contacts="y", selected_contact_ids=str(contact_id)))
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.execute(select(user_contacts.c.contact_id).where(user_contacts.c.user_id == bob)).all()
        assert [row[0] for row in rows] == [contact_id]
    assert _user(app, bob).selected_contacts is True
