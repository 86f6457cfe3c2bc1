"""Users screen: the contact-access picker (seed 002 selected_contacts) on the create/edit form."""
import re

from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db


def add_contacts(app, tenant, *names) -> list[int]:
    from app.pipelines.models import Contact

    with app.app_context(), tenant_scope(tenant.business_id):
        rows = [Contact(first_name=first, last_name=last, email=f"{first.lower()}@example.com")
                for first, last in names]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def stored_access(app, user_id):
    from app.team.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.id == user_id).execution_options(all_tenants=True))
        with tenant_scope(user.business_id):
            return user.selected_contacts, sorted(c.id for c in user.contacts)


def role_id(app, tenant):
    from app.team.models import Role

    with app.app_context(), tenant_scope(tenant.business_id):
        return db.session.scalar(select(Role.id).where(Role.name == f"Cashier#{tenant.business_id}"))


def test_picker_finds_contacts_by_name_and_escapes_them(app, acme, globex, owner_browser):
    add_contacts(app, acme, ("Ada", "Lovelace"), ("Alan", "Turing"), ("<b>Evil</b>", "Name"))
    add_contacts(app, globex, ("Ada", "Elsewhere"))
    html = owner_browser.get("/team/users/contact-options?contact_q=ada").get_data(as_text=True)
    assert "Ada Lovelace" in html and "Elsewhere" not in html and "Turing" not in html
    assert 'name="selected_contact_ids"' in html
    html = owner_browser.get("/team/users/contact-options?contact_q=evil").get_data(as_text=True)
    assert "<b>Evil</b>" not in html and "&lt;b&gt;Evil&lt;/b&gt;" in html
    assert "No contact matches" in owner_browser.get("/team/users/contact-options?contact_q=zzz").get_data(as_text=True)
    assert owner_browser.get("/team/users/contact-options?contact_q=a").get_data(as_text=True).strip() == ""


def test_create_a_user_limited_to_chosen_contacts_and_edit_it(app, acme, owner_browser):
    ada, alan = add_contacts(app, acme, ("Ada", "Lovelace"), ("Alan", "Turing"))
    form = owner_browser.get("/team/users/new").get_data(as_text=True)
    assert 'data-testid="contact-access"' in form and 'id="selected_contacts"' in form
    response = owner_browser.post("/team/users/new", data={
        "first_name": "Sam", "role": str(role_id(app, acme)), "is_active": "y", "location_access": "all",
        "selected_contacts": "y", "selected_contact_ids": [str(ada), str(ada)]})
    assert response.status_code == 302, response.get_data(as_text=True)
    from app.team.models import User

    with app.app_context(), tenant_scope(acme.business_id):
        sam = db.session.scalar(select(User.id).where(User.first_name == "Sam"))
    assert stored_access(app, sam) == (True, [ada])

    edit = owner_browser.get(f"/team/users/{sam}/edit").get_data(as_text=True)
    chosen = edit.split('data-testid="chosen-contacts"')[1].split("</div>\n      <label")[0]
    assert "Ada Lovelace" in chosen and re.search(rf'value="{ada}" id="chosen-contact-{ada}" checked', chosen)

    owner_browser.post(f"/team/users/{sam}/edit", data={
        "first_name": "Sam", "role": str(role_id(app, acme)), "is_active": "y", "location_access": "all",
        "selected_contacts": "y", "selected_contact_ids": [str(alan)]})
    assert stored_access(app, sam) == (True, [alan])
    owner_browser.post(f"/team/users/{sam}/edit", data={
        "first_name": "Sam", "role": str(role_id(app, acme)), "is_active": "y", "location_access": "all"})
    assert stored_access(app, sam) == (False, [])


def test_another_business_contact_is_refused_next_to_the_picker(app, acme, globex, owner_browser):
    [theirs] = add_contacts(app, globex, ("Grace", "Hopper"))
    response = owner_browser.post("/team/users/new", data={
        "first_name": "Sam", "role": str(role_id(app, acme)), "is_active": "y", "location_access": "all",
        "selected_contacts": "y", "selected_contact_ids": [str(theirs)]})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field-error="selected_contact_ids"' in html


def test_picker_needs_a_user_permission(app, acme, browser_as):
    from tests.conftest import make_user

    make_user(app, acme, "clerk@acme.example", permissions=["contacts.view_all"])
    clerk = browser_as("clerk@acme.example", "user-password")
    assert clerk.get("/team/users/contact-options?contact_q=ada").status_code == 403
