"""Commission agents screens: list, live search fragment, create/edit with inline errors, delete."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.team.models import User
from tests.conftest import make_user


def _agent(**fields) -> User:
    return User(is_cmmsn_agnt=True, allow_login=False, status=fields.pop("status", "active"), **fields)


@pytest.fixture
def seeded(app, acme, globex):
    with app.app_context():
        with tenant_scope(acme.business_id):
            db.session.add_all([
                _agent(first_name="Alice", last_name="Agent", email="alice@agents.example",
                       contact_number="0700 111", cmmsn_percent=Decimal("12.50")),
                _agent(first_name="Bob", last_name="Broker", cmmsn_percent=Decimal("5"), status="terminated"),
            ])
        with tenant_scope(globex.business_id):
            db.session.add(_agent(first_name="Globex", last_name="Secret Agent", cmmsn_percent=Decimal("1")))
        db.session.commit()


def _find(app, first_name, deleted=False):
    with app.app_context():
        stmt = select(User).where(User.first_name == first_name).execution_options(all_tenants=True)
        if not deleted:
            stmt = stmt.where(User.deleted_at.is_(None))
        return db.session.scalar(stmt)


def _count_agents(app, business_id):
    with app.app_context(), tenant_scope(business_id):
        return len(db.session.scalars(select(User).where(User.is_cmmsn_agnt.is_(True))).all())


def test_list_shows_only_own_business_agents_and_no_staff(owner_browser, seeded):
    response = owner_browser.get("/team/agents/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Alice Agent" in html and "Bob Broker" in html
    assert "alice@agents.example" in html and "0700 111" in html and "12.5%" in html
    assert "Terminated" in html
    assert "Secret Agent" not in html
    assert "owner@acme.example" not in html  # the staff owner is not an agent
    assert "Showing 1–2 of 2" in html
    assert 'href="/team/agents/"' in html and ">Agents<" in html  # the Team tab


def test_live_search_returns_only_the_results_fragment(owner_browser, seeded):
    response = owner_browser.get("/team/agents/?q=alice", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in html and 'id="agent-search"' not in html
    assert "Alice Agent" in html and "Bob Broker" not in html


def test_status_filter_and_sort_are_in_the_url(owner_browser, seeded):
    html = owner_browser.get("/team/agents/?status=terminated").get_data(as_text=True)
    assert "Bob Broker" in html and "Alice Agent" not in html
    assert '<option value="terminated" selected' in html
    html = owner_browser.get("/team/agents/?sort=cmmsn_percent&direction=asc").get_data(as_text=True)
    assert html.index("Bob Broker") < html.index("Alice Agent")
    html = owner_browser.get("/team/agents/?sort=name&direction=desc").get_data(as_text=True)
    assert html.index("Bob Broker") < html.index("Alice Agent")
    response = owner_browser.get("/team/agents/?status=retired")
    assert response.status_code == 200 and "alert-warning" in response.get_data(as_text=True)


def test_user_content_is_escaped(app, owner_browser, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        db.session.add(_agent(first_name="<script>alert(1)</script>", cmmsn_percent=Decimal("1")))
        db.session.commit()
    html = owner_browser.get("/team/agents/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_create_with_missing_fields_shows_inline_errors_and_writes_nothing(app, owner_browser, acme):
    response = owner_browser.post("/team/agents/new", data={"first_name": "", "last_name": "Keeper",
                                                           "contact_no": "0800 999", "cmmsn_percent": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field-error="first_name"' in html and "The first name field is required." in html
    assert 'data-field-error="cmmsn_percent"' in html and "The commission percentage field is required." in html
    assert 'value="Keeper"' in html and 'value="0800 999"' in html  # what was typed is kept
    assert _count_agents(app, acme.business_id) == 0


def test_bad_percent_and_email_errors_sit_next_to_their_fields(app, owner_browser, acme):
    response = owner_browser.post("/team/agents/new", data={"first_name": "Cleo", "email": "not-an-email",
                                                           "cmmsn_percent": "1.000"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field-error="email"' in html and 'data-field-error="cmmsn_percent"' in html
    assert 'value="1.000"' in html
    assert _count_agents(app, acme.business_id) == 0


def test_create_with_decimal_comma_stores_a_decimal(app, owner_browser, acme):
    response = owner_browser.post("/team/agents/new", data={
        "surname": "Ms", "first_name": "Dana", "last_name": "Deal", "email": "Dana@Agents.example",
        "contact_no": "0700 222", "address": "1 High St", "cmmsn_percent": "12,5"})
    assert response.status_code == 302 and response.headers["Location"] == "/team/agents/"
    agent = _find(app, "Dana")
    assert agent.cmmsn_percent == Decimal("12.5")
    assert (agent.business_id, agent.surname, agent.contact_number, agent.is_cmmsn_agnt, agent.allow_login) == (
        acme.business_id, "Ms", "0700 222", True, False)
    assert "Agent “Ms Dana Deal” added." in owner_browser.get("/team/agents/").get_data(as_text=True)


def test_form_shows_the_business_decimal_separator(app, owner_browser, acme):
    assert "e.g. 12.5" in owner_browser.get("/team/agents/new").get_data(as_text=True)
    with app.app_context():
        from app.team.models import Business
        db.session.get(Business, acme.business_id).decimal_separator = ","
        db.session.commit()
    assert "e.g. 12,5" in owner_browser.get("/team/agents/new").get_data(as_text=True)


def test_edit_then_delete(app, owner_browser, seeded):
    alice = _find(app, "Alice")
    form = owner_browser.get(f"/team/agents/{alice.id}/edit").get_data(as_text=True)
    assert 'value="Alice"' in form and 'value="12.5"' in form and 'value="0700 111"' in form

    response = owner_browser.post(f"/team/agents/{alice.id}/edit", data={
        "first_name": "Alicia", "last_name": "Agent", "contact_no": "0700 333", "cmmsn_percent": "7.25"})
    assert response.status_code == 302
    updated = _find(app, "Alicia")
    assert updated.id == alice.id and updated.cmmsn_percent == Decimal("7.25") and updated.contact_number == "0700 333"

    bad = owner_browser.post(f"/team/agents/{alice.id}/edit", data={"first_name": "", "cmmsn_percent": "200"})
    assert bad.status_code == 422
    assert "The first name field is required." in bad.get_data(as_text=True)
    assert _find(app, "Alicia").cmmsn_percent == Decimal("7.25")

    response = owner_browser.post(f"/team/agents/{alice.id}/delete", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/team/agents/"
    gone = _find(app, "Alicia", deleted=True)
    assert gone is not None and gone.deleted_at is not None  # soft delete: the row stays
    html = owner_browser.get("/team/agents/").get_data(as_text=True)
    assert "Agent “Alicia Agent” deleted." in html
    assert "Alicia Agent</a>" not in html and "Bob Broker" in html
    assert owner_browser.get(f"/team/agents/{alice.id}/edit").status_code == 404


def test_delete_without_htmx_redirects(app, owner_browser, seeded):
    bob = _find(app, "Bob")
    response = owner_browser.post(f"/team/agents/{bob.id}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/team/agents/"


def test_other_business_agent_is_404(app, owner_browser, seeded):
    secret = _find(app, "Globex")
    assert owner_browser.get(f"/team/agents/{secret.id}/edit").status_code == 404
    assert owner_browser.post(f"/team/agents/{secret.id}/edit", data={"first_name": "x"}).status_code == 404
    assert owner_browser.post(f"/team/agents/{secret.id}/delete").status_code == 404
    assert _find(app, "Globex").deleted_at is None


def test_staff_user_is_not_an_agent(app, owner_browser, acme):
    assert owner_browser.get(f"/team/agents/{acme.owner_id}/edit").status_code == 404
    assert owner_browser.post(f"/team/agents/{acme.owner_id}/delete").status_code == 404


def test_permissions_hide_and_enforce(app, browser_as, acme, seeded):
    make_user(app, acme, "viewer@acme.example", ["user.view"])
    viewer = browser_as("viewer@acme.example", "user-password")
    html = viewer.get("/team/agents/").get_data(as_text=True)
    assert "Alice Agent" in html
    assert "Add agent" not in html and ">Delete<" not in html and ">Edit<" not in html
    alice = _find(app, "Alice")
    assert viewer.get("/team/agents/new").status_code == 403
    assert viewer.post("/team/agents/new", data={"first_name": "Sneaky", "cmmsn_percent": "1"}).status_code == 403
    assert viewer.post(f"/team/agents/{alice.id}/edit", data={"first_name": "Renamed"}).status_code == 403
    assert viewer.post(f"/team/agents/{alice.id}/delete").status_code == 403
    assert _find(app, "Sneaky") is None and _find(app, "Alice") is not None

    make_user(app, acme, "nobody@acme.example", ["locations.view"])
    nobody = browser_as("nobody@acme.example", "user-password")
    assert nobody.get("/team/agents/").status_code == 403
    assert ">Agents<" not in nobody.get("/team/locations/").get_data(as_text=True)


def test_signed_out_visitor_is_sent_to_login(client):
    response = client.get("/team/agents/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
