"""What a person does in the browser, step by step, shared by the e2e tests."""
import re
from dataclasses import dataclass

from playwright.sync_api import Page, expect


@dataclass
class Owner:
    business: str
    first_name: str
    email: str
    password: str


def sign_up(page: Page, owner: Owner) -> None:
    """Create a business through the sign-up form; ends on the dashboard."""
    page.goto("/signup")
    page.get_by_label("Business name").fill(owner.business)
    page.get_by_label("First name").fill(owner.first_name)
    page.get_by_label("Work e-mail").fill(owner.email)
    page.get_by_label("Password").fill(owner.password)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))


def sign_in(page: Page, login: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail or username").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    """User menu (top right) -> Sign out; ends on the sign-in page."""
    # Bootstrap's dropdown script is deferred: a click before the page has loaded does
    # nothing, so wait for the load and open the menu until it says it is open.
    page.wait_for_load_state("load")
    menu = page.get_by_test_id("user-menu")
    for _ in range(3):
        if menu.get_attribute("aria-expanded") == "true":
            break
        menu.click()
        page.wait_for_timeout(200)
    sign_out_button = page.get_by_role("button", name="Sign out", exact=True)  # not "... everywhere"
    expect(sign_out_button).to_be_visible()
    sign_out_button.click()
    expect(page).to_have_url(re.compile(r"/login$"))


def accept_dialogs(page: Page) -> list[str]:
    """Accept every confirm() from now on; returns the list their messages go into."""
    messages: list[str] = []

    def accept(dialog):
        messages.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    return messages


def wait_for_htmx(page: Page) -> None:
    """Until htmx has no request in flight and nothing is settling."""
    page.wait_for_function(
        "() => window.htmx && !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"
    )
