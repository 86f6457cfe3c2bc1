"""Locations screens: list, live search fragment, create/edit with inline errors, delete."""
import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.locations.models import Location
from tests.conftest import make_user


@pytest.fixture
def seeded(app, acme, globex):
    with app.app_context():
        with tenant_scope(acme.business_id):
            db.session.add_all([Location(name="Harbour Shop", city="Bristol", code="HS1"),
                                Location(name="Bath Pop-up", city="Bath", is_active=False)])
        with tenant_scope(globex.business_id):
            db.session.add(Location(name="Globex Secret Lab", city="Springfield"))
        db.session.commit()


def _location(app, name):
    with app.app_context():
        return db.session.scalar(select(Location).where(Location.name == name).execution_options(all_tenants=True))


def test_list_shows_only_own_business(owner_browser, seeded):
    html = owner_browser.get("/team/locations/").get_data(as_text=True)
    assert "Harbour Shop" in html and "Bath Pop-up" in html
    assert "Globex Secret Lab" not in html
    assert "Showing 1–2 of 2" in html


def test_live_search_returns_only_the_results_fragment(owner_browser, seeded):
    response = owner_browser.get("/team/locations/?q=harb", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in html and "<nav" not in html.split("Pages")[0][:200]
    assert "Harbour Shop" in html and "Bath Pop-up" not in html


def test_filter_and_sort_are_in_the_url(owner_browser, seeded):
    html = owner_browser.get("/team/locations/?is_active=0").get_data(as_text=True)
    assert "Bath Pop-up" in html and "Harbour Shop" not in html
    html = owner_browser.get("/team/locations/?sort=city&direction=desc").get_data(as_text=True)
    assert html.index("Harbour Shop") < html.index("Bath Pop-up")


def test_bad_query_shows_a_message_not_an_error_page(owner_browser, seeded):
    response = owner_browser.get("/team/locations/?q=x")
    assert response.status_code == 200
    assert "The q field must be at least 2 characters." in response.get_data(as_text=True)


def test_user_content_is_escaped(app, owner_browser, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        db.session.add(Location(name="<script>alert(1)</script>"))
        db.session.commit()
    html = owner_browser.get("/team/locations/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_create_with_missing_name_shows_inline_error_and_writes_nothing(app, owner_browser, acme):
    response = owner_browser.post("/team/locations/new", data={"name": "", "city": "Leeds"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field-error="name"' in html and "The name field is required." in html
    assert 'value="Leeds"' in html  # what was typed is kept
    with app.app_context(), tenant_scope(acme.business_id):
        assert db.session.scalars(select(Location)).all() == []


def test_create_duplicate_code_is_an_inline_error(app, owner_browser, seeded):
    response = owner_browser.post("/team/locations/new", data={"name": "Other", "code": "hs1"})
    assert response.status_code == 422
    assert "The code has already been taken." in response.get_data(as_text=True)


def test_create_edit_delete(app, owner_browser, acme):
    response = owner_browser.post("/team/locations/new", data={"name": "Leeds Depot", "city": "Leeds",
                                                              "email": "Leeds@Acme.example", "is_active": "y"})
    assert response.status_code == 302
    location = _location(app, "Leeds Depot")
    assert (location.business_id, location.city, location.email, location.is_active) == (
        acme.business_id, "Leeds", "Leeds@acme.example", True)
    assert "Location “Leeds Depot” added." in owner_browser.get("/team/locations/").get_data(as_text=True)

    form = owner_browser.get(f"/team/locations/{location.id}/edit").get_data(as_text=True)
    assert 'value="Leeds Depot"' in form
    response = owner_browser.post(f"/team/locations/{location.id}/edit", data={"name": "Leeds Hub", "city": "Leeds"})
    assert response.status_code == 302
    updated = _location(app, "Leeds Hub")
    assert updated.id == location.id and updated.is_active is False  # unticked box means inactive

    response = owner_browser.post(f"/team/locations/{location.id}/delete", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/team/locations/"
    assert _location(app, "Leeds Hub") is None


def test_other_business_location_is_404_on_every_screen(app, owner_browser, seeded):
    secret = _location(app, "Globex Secret Lab")
    assert owner_browser.get(f"/team/locations/{secret.id}/edit").status_code == 404
    assert owner_browser.post(f"/team/locations/{secret.id}/edit", data={"name": "x"}).status_code == 404
    assert owner_browser.post(f"/team/locations/{secret.id}/delete").status_code == 404
    assert _location(app, "Globex Secret Lab") is not None


def test_permissions_hide_and_enforce(app, browser_as, acme, seeded):
    make_user(app, acme, "viewer@acme.example", ["locations.view"])
    viewer = browser_as("viewer@acme.example", "user-password")
    html = viewer.get("/team/locations/").get_data(as_text=True)
    assert "Harbour Shop" in html
    assert "Add location" not in html and ">Delete<" not in html and ">Edit<" not in html
    harbour = _location(app, "Harbour Shop")
    assert viewer.get("/team/locations/new").status_code == 403
    assert viewer.post("/team/locations/new", data={"name": "Sneaky"}).status_code == 403
    assert viewer.post(f"/team/locations/{harbour.id}/edit", data={"name": "Renamed"}).status_code == 403
    assert viewer.post(f"/team/locations/{harbour.id}/delete").status_code == 403
    assert _location(app, "Sneaky") is None and _location(app, "Harbour Shop") is not None

    make_user(app, acme, "nobody@acme.example", [])
    nobody = browser_as("nobody@acme.example", "user-password")
    assert nobody.get("/team/locations/").status_code == 403


def test_signed_out_visitor_is_sent_to_login(client):
    response = client.get("/team/locations/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_two_editors_cannot_silently_overwrite_each_other(app, owner_browser, browser_as, acme, seeded):
    harbour = _location(app, "Harbour Shop")
    second = browser_as("owner@acme.example", "owner-password")
    first_form = owner_browser.get(f"/team/locations/{harbour.id}/edit").get_data(as_text=True)
    assert f'name="version" value="{harbour.version}"' in first_form

    saved = second.post(f"/team/locations/{harbour.id}/edit",
                        data={"name": "Harbour Shop", "city": "Bristol", "version": harbour.version})
    assert saved.status_code == 302
    stale = owner_browser.post(f"/team/locations/{harbour.id}/edit",
                               data={"name": "Overwritten", "city": "Nowhere", "version": harbour.version})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "Someone else changed this record since you loaded it." in html
    assert 'value="Overwritten"' in html  # the typing is not lost
    current = _location(app, "Harbour Shop")
    assert current.city == "Bristol" and current.version == harbour.version + 1
