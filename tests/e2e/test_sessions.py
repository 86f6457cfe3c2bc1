"""Sign out everywhere, as a person does it: from the user menu, with a second browser open."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import sign_in

pytestmark = pytest.mark.e2e


def test_sign_out_everywhere_from_the_user_menu_signs_out_the_other_browser(page, browser, live_server,
                                                                              signed_in_owner, shot):
    owner = signed_in_owner
    other = browser.new_context(base_url=live_server.url)
    try:
        phone = other.new_page()
        sign_in(phone, owner.email, owner.password)
        expect(phone).to_have_url(live_server.url + "/")

        # The menu's Signed-in devices page lists both browsers.
        page.goto("/account/sessions")
        expect(page.locator("[data-session-id]")).to_have_count(2)
        expect(page.get_by_text("This browser")).to_have_count(1)
        shot("signed-in-devices")

        page.wait_for_load_state("load")
        menu = page.get_by_test_id("user-menu")
        for _ in range(3):
            if menu.get_attribute("aria-expanded") == "true":
                break
            menu.click()
            page.wait_for_timeout(200)
        asked = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
        page.get_by_test_id("sign-out-everywhere").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        expect(page.get_by_role("alert")).to_contain_text("You are signed out on every device.")
        assert asked == ["Sign out in every browser and device, this one included?"]

        phone.goto("/")
        expect(phone).to_have_url(re.compile(r"/login\?next=%2F$"))
    finally:
        other.close()
