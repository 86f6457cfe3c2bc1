"""An owner makes a role and a user with it; that user sees only what the role allows."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import sign_in, sign_out

pytestmark = pytest.mark.e2e


def test_a_new_role_decides_what_its_user_sees(page, live_server, signed_in_owner, shot):
    tag = uuid.uuid4().hex[:6]
    main_nav = page.get_by_role("navigation", name="Main")

    # The owner makes a "Front desk" role that may see and add locations, nothing else.
    main_nav.get_by_role("link", name="Team").click()
    page.get_by_role("list", name="Team").get_by_role("link", name="Roles").click()
    page.get_by_role("link", name="Add role").click()
    page.get_by_label("Name", exact=True).fill("Front desk")
    page.get_by_label(re.compile(r"^See locations locations.view$")).check()
    page.get_by_label(re.compile(r"^Add locations locations.create$")).check()
    shot("role-form")
    page.get_by_role("button", name="Add role").click()
    expect(page.get_by_role("alert")).to_contain_text("Front desk")

    # ... and a user holding it, who can sign in with a password.
    page.get_by_role("list", name="Team").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Add user").click()
    page.get_by_label("First name", exact=True).fill("Robin")
    page.get_by_label("E-mail", exact=True).fill(f"robin.{tag}@bramble.example")
    page.get_by_label("Role", exact=True).select_option(label="Front desk")
    page.get_by_label("Can sign in", exact=True).check()
    page.get_by_label("Username", exact=True).fill(f"robin-{tag}")
    page.get_by_label("Password", exact=True).fill("front-desk-pass")
    shot("user-form")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("alert")).to_contain_text("User \u201cRobin\u201d added.")
    expect(page.get_by_test_id("user-row").filter(has_text="Robin")).to_contain_text("Front desk")
    sign_out(page)

    # Robin signs in: Team leads straight to locations; users, roles and settings are not offered.
    sign_in(page, f"robin-{tag}", "front-desk-pass")
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))
    main_nav.get_by_role("link", name="Team").click()
    expect(page).to_have_url(re.compile(r"/team/locations/$"))
    team_tabs = page.get_by_role("list", name="Team")
    expect(team_tabs.get_by_role("link")).to_have_text(["Locations"])
    expect(page.get_by_role("link", name="Add location")).to_be_visible()
    shot("robin-sees-locations-only")

    page.get_by_test_id("user-menu").click()
    menu = page.locator(".dropdown-menu.show")
    expect(menu).to_contain_text("My API tokens")
    expect(menu.get_by_role("link", name="Business settings")).to_have_count(0)
    expect(menu.get_by_role("link", name="Audit log")).to_have_count(0)

    # Typing the addresses of what the role leaves out gets a clear refusal, not the page.
    for path in ("/team/users", "/team/roles/", "/team/agents/", "/settings/business", "/settings/audit-log"):
        response = page.goto(path)
        assert response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("You do not have access to this")
    shot("robin-refused")
    assert all("status of 403" in message for message in page.console_errors)
    page.console_errors.clear()

    # What the role allows works: Robin adds a location.
    page.goto("/team/locations/new")
    page.get_by_label("Name", exact=True).fill("Market stall")
    page.get_by_role("button", name="Add location").click()
    expect(page.get_by_role("alert")).to_contain_text("Location \u201cMarket stall\u201d added.")
    assert page.console_errors == []
