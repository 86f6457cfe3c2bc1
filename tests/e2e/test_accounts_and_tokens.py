"""A new business owner signs up, signs out and in, and creates, uses and revokes an API token."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import accept_dialogs, sign_in, sign_out, sign_up

pytestmark = pytest.mark.e2e

SIGN_IN_FAILED = "Those details do not match an account. Check them and try again."


def test_sign_up_sign_in_and_an_api_token_from_creation_to_revocation(page, live_server, new_owner, shot):
    owner = new_owner

    # Sign up: the business exists and its owner lands on its dashboard.
    sign_up(page, owner)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Good to see you, {owner.first_name}")
    expect(page.get_by_text(f"{owner.business} at a glance")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(f"Welcome to Trellis, {owner.first_name}!")
    shot("dashboard-after-sign-up")

    # Sign out through the user menu.
    page.get_by_test_id("user-menu").click()
    expect(page.locator(".dropdown-menu")).to_contain_text(owner.business)
    shot("user-menu-open", full_page=False)
    sign_out(page)
    expect(page.get_by_role("alert")).to_contain_text("You are signed out.")
    shot("signed-out")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))

    # Sign in again with the e-mail address.
    sign_in(page, owner.email, owner.password)
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_text(f"{owner.business} at a glance")).to_be_visible()

    # Settings -> API tokens -> create "Zapier": the token is shown once.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API tokens").click()
    expect(page).to_have_url(live_server.url + "/settings/tokens")
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    expect(page.get_by_test_id("token-table")).to_contain_text("No tokens yet")
    page.get_by_label("Token name").fill("Zapier")
    page.get_by_role("button", name="Create token").click()
    new_token = page.get_by_test_id("new-token-value")
    expect(new_token).to_be_visible()
    token = new_token.input_value()
    assert re.fullmatch(r"\d+\|\S{20,}", token), token
    rows = page.get_by_test_id("token-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Zapier")
    expect(rows.first).to_contain_text("everything")
    expect(rows.first.locator("td").nth(3)).to_have_text("Never")
    shot("token-created")

    # A reload never shows it again, in any form.
    page.reload()
    expect(page.get_by_test_id("token-row")).to_have_count(1)
    expect(page.get_by_test_id("new-token-value")).to_have_count(0)
    secret = token.split("|", 1)[1]
    assert secret not in page.content()
    shot("token-list-after-reload")

    # The token works against the API ...
    status, body = live_server.api("GET", "/api/v1/me", token=token)
    assert status == 200, body
    assert body["data"]["email"] == owner.email
    assert body["data"]["business"]["name"] == owner.business

    # ... and the list now says when it was last used.
    page.reload()
    expect(page.get_by_test_id("token-row").first.locator("td").nth(3)).not_to_have_text("Never")

    # Revoke it (htmx form with a confirm dialog): the row says so at once.
    dialogs = accept_dialogs(page)
    row = page.get_by_test_id("token-row").filter(has_text="Zapier")
    row.get_by_role("button", name="Revoke").click()
    expect(row.get_by_test_id("revoked")).to_have_text("Revoked")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
    assert len(dialogs) == 1 and "Zapier" in dialogs[0], dialogs
    shot("token-revoked")

    # The API refuses it from now on, and the revocation survives a reload.
    status, body = live_server.api("GET", "/api/v1/me", token=token)
    assert status == 401, body
    assert body == {"message": "Unauthenticated."}
    page.reload()
    expect(page.get_by_test_id("token-row").filter(has_text="Zapier").get_by_test_id("revoked")).to_be_visible()
    assert page.console_errors == []


def test_a_wrong_password_shows_the_error_and_signs_nobody_in(page, live_server, new_owner, shot):
    sign_up(page, new_owner)
    sign_out(page)

    sign_in(page, new_owner.email, "not the password")
    expect(page).to_have_url(live_server.url + "/login")
    expect(page.get_by_test_id("form-error")).to_have_text(SIGN_IN_FAILED)
    expect(page.get_by_label("E-mail or username")).to_have_value(new_owner.email)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_test_id("user-menu")).to_have_count(0)
    shot("wrong-password")

    # No session: a signed-in page still sends the visitor to the sign-in form.
    page.goto("/settings/tokens")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fsettings%2Ftokens$"))
    expect(page.get_by_role("alert")).to_contain_text("Please sign in to continue.")
    status, _ = live_server.api("GET", "/api/v1/me")
    assert status == 401

    # The right password still works afterwards.
    sign_in(page, new_owner.email, new_owner.password)
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    assert page.console_errors == []
