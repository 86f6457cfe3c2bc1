"""A new business owner manages locations: inline errors, live search in the URL, edit, delete."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import accept_dialogs

pytestmark = pytest.mark.e2e


def open_locations(page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    page.get_by_role("list", name="Team").get_by_role("link", name="Locations").click()
    expect(page).to_have_url(re.compile(r"/team/locations/$"))


def add_location(page, name: str, city: str, code: str = "") -> None:
    page.get_by_role("link", name="Add location").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_label("City").fill(city)
    page.get_by_role("button", name="Add location").click()
    expect(page).to_have_url(re.compile(r"/team/locations/$"))
    expect(page.get_by_role("alert")).to_contain_text(f"Location \u201c{name}\u201d added.")


def row(page, name: str):
    return page.get_by_test_id("location-row").filter(has=page.get_by_role("link", name=name, exact=True))


def test_add_search_edit_and_delete_a_location(page, live_server, signed_in_owner, shot):
    open_locations(page)
    expect(page.get_by_test_id("empty")).to_contain_text("No locations yet.")
    shot("no-locations-yet")

    # A missing name: the form comes back with the error under the field, input kept.
    page.get_by_role("link", name="Add location").click()
    expect(page).to_have_url(re.compile(r"/team/locations/new$"))
    page.get_by_label("City").fill("Leeds")
    page.get_by_role("button", name="Add location").click()
    name_error = page.locator('[data-field-error="name"]')
    expect(name_error).to_have_text("The name field is required.")
    expect(name_error).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("City")).to_have_value("Leeds")
    expect(page.locator("[data-field-error]")).to_have_count(1)
    shot("name-missing")

    # Now valid: it is listed.
    page.get_by_label("Name", exact=True).fill("Riverside Shop")
    page.get_by_label("Code", exact=True).fill("RS01")
    page.get_by_role("button", name="Add location").click()
    expect(page).to_have_url(re.compile(r"/team/locations/$"))
    expect(page.get_by_role("alert")).to_contain_text("Location \u201cRiverside Shop\u201d added.")
    expect(row(page, "Riverside Shop")).to_contain_text("Leeds")
    add_location(page, "Harbour Office", city="Bristol", code="HO02")
    expect(page.get_by_test_id("location-row")).to_have_count(2)
    expect(page.get_by_test_id("page-summary")).to_have_text("Showing 1\u20132 of 2")
    shot("two-locations")

    # Live search: typing filters the table in place and puts the search in the URL.
    search = page.get_by_role("searchbox", name="Search")
    with page.expect_response(lambda r: "/team/locations/" in r.url and "q=harb" in r.url) as answer:
        search.press_sequentially("harb", delay=40)
    assert answer.value.status == 200
    assert answer.value.request.headers.get("hx-request") == "true"
    expect(page.get_by_test_id("location-row")).to_have_count(1)
    expect(row(page, "Harbour Office")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/team/locations/\?(.*&)?q=harb(&|$)"))
    expect(page.get_by_role("heading", name="Team")).to_be_visible()  # a swap, not a new page
    shot("searched-harb")

    # The URL is a bookmark: loading it shows the same filtered list.
    page.reload()
    expect(search).to_have_value("harb")
    expect(page.get_by_test_id("location-row")).to_have_count(1)
    expect(row(page, "Harbour Office")).to_be_visible()

    # A search that matches nothing says so.
    with page.expect_response(lambda r: "q=zzz" in r.url):
        search.fill("zzz")
    expect(page.get_by_test_id("empty")).to_contain_text("No locations match.")
    expect(page).to_have_url(re.compile(r"q=zzz"))

    # Edit: the form is filled in; the new name is listed.
    page.goto("/team/locations/")
    row(page, "Harbour Office").get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit location")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Harbour Office")
    expect(page.get_by_label("City")).to_have_value("Bristol")
    page.get_by_label("Name", exact=True).fill("Harbour Office North")
    page.get_by_label("Country").fill("United Kingdom")
    shot("editing")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/team/locations/$"))
    expect(page.get_by_role("alert")).to_contain_text("Location \u201cHarbour Office North\u201d saved.")
    expect(row(page, "Harbour Office North")).to_contain_text("United Kingdom")
    expect(row(page, "Harbour Office")).to_have_count(0)

    # Delete, after confirming: gone.
    dialogs = accept_dialogs(page)
    row(page, "Harbour Office North").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("alert")).to_contain_text("Location \u201cHarbour Office North\u201d deleted.")
    expect(row(page, "Harbour Office North")).to_have_count(0)
    expect(page.get_by_test_id("location-row")).to_have_count(1)
    assert dialogs == ["Delete \u201cHarbour Office North\u201d? This cannot be undone."]
    shot("deleted")
    assert page.console_errors == []


def test_cancelling_the_delete_confirm_keeps_the_location(page, signed_in_owner):
    open_locations(page)
    add_location(page, "Corner Kiosk", city="York")
    page.on("dialog", lambda dialog: dialog.dismiss())
    row(page, "Corner Kiosk").get_by_role("button", name="Delete").click()
    page.reload()
    expect(row(page, "Corner Kiosk")).to_be_visible()


def test_back_after_a_live_search_shows_the_whole_page(page, signed_in_owner, shot):
    """htmx restores history by asking the server again (historyCacheSize is 0)."""
    open_locations(page)
    add_location(page, "Mill Yard", city="Halifax")
    add_location(page, "Quay Store", city="Hull")
    search = page.get_by_role("searchbox", name="Search")
    with page.expect_response(lambda r: "q=quay" in r.url):
        search.press_sequentially("quay", delay=40)
    expect(page.get_by_test_id("location-row")).to_have_count(1)

    page.go_back()
    expect(page).to_have_url(re.compile(r"/team/locations/$"))
    expect(page.get_by_test_id("location-row")).to_have_count(2)
    shot("after-back")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search")).to_be_visible()


def test_deleting_works_without_javascript(browser, live_server, new_owner):
    """Every screen is usable without JavaScript for its basic form (DESIGN section 5)."""
    from tests.e2e.flows import sign_up

    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_up(page, new_owner)
        page.goto("/team/locations/new")
        page.get_by_label("Name", exact=True).fill("Paper Shop")
        page.get_by_role("button", name="Add location").click()
        expect(row(page, "Paper Shop")).to_be_visible()
        row(page, "Paper Shop").get_by_role("button", name="Delete").click()
        expect(page.get_by_role("alert")).to_contain_text("Location \u201cPaper Shop\u201d deleted.")
        expect(row(page, "Paper Shop")).to_have_count(0)
    finally:
        context.close()
