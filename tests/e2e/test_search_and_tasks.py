"""A salesperson finds a contact from the header search with the keyboard, ticks an
overdue task on My tasks, and logs a call on the contact's timeline."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pipelines.models import Account, Activity, Contact
from app.team.models import User
from tests.pipelines.activity_rows import days

pytestmark = pytest.mark.e2e


def seed(live_server, email: str) -> int:
    """A contact with an overdue task for the new owner; returns the contact's id."""
    with live_server.app.app_context():
        owner = db.session.scalar(select(User).where(User.email == email).execution_options(all_tenants=True))
        with tenant_scope(owner.business_id):
            account = Account(name="Avon Landscapes", owner_id=owner.id)
            db.session.add(account)
            db.session.flush()
            contact = Contact(first_name="Hannah", last_name="Price", email="hannah@avon.example",
                              account=account, owner_id=owner.id)
            db.session.add(contact)
            db.session.flush()
            db.session.add(Activity(type="task", subject="Send the brochure", owner_id=owner.id, due_at=days(-2),
                                    activityable_type="contact", activityable_id=contact.id))
            db.session.commit()
            return contact.id


def test_header_search_keyboard_tasks_and_timeline(page, live_server, signed_in_owner, shot):
    contact_id = seed(live_server, signed_in_owner.email)
    search = page.get_by_role("combobox", name="Search contacts, leads, accounts and deals")

    # htmx loads deferred: typing before it has bound the box would send no request.
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.htmx !== undefined")
    search.fill("hann")
    listbox = page.get_by_role("listbox", name="Search results")
    expect(listbox.get_by_role("option")).to_have_count(2)  # Hannah Price, and "see all"
    search.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", "gs-contacts-1")
    expect(search).to_have_attribute("aria-expanded", "true")
    shot("search-dropdown")
    search.press("Escape")
    expect(listbox).to_have_count(0)
    expect(search).to_have_attribute("aria-expanded", "false")
    search.fill("avon")  # the company finds the contact too
    expect(listbox.get_by_role("option").first).to_contain_text("Hannah Price")
    search.press("ArrowDown")
    search.press("Enter")
    expect(page).to_have_url(re.compile(rf"/pipelines/contacts/{contact_id}$"))
    page.console_errors.clear()  # the contact page is another engineer's; before the merge it is a 404

    page.goto("/pipelines/tasks")
    expect(page).to_have_title("My tasks (1 overdue) · Trellis CRM")
    page.get_by_role("button", name="Mark done: Send the brochure").click()
    expect(page).to_have_title("My tasks · Trellis CRM")
    expect(page.get_by_role("button", name="Mark not done: Send the brochure")).to_be_visible()
    shot("task-ticked")

    page.goto(f"/pipelines/timeline/contact/{contact_id}")
    form = page.get_by_test_id("quick-add")
    form.get_by_text("Call", exact=True).click()
    form.get_by_label("Subject").fill("Called about the order")
    form.get_by_role("button", name="Add").click()
    first = page.get_by_test_id("timeline-activity").first
    expect(first).to_contain_text("Called about the order")
    expect(form.get_by_label("Subject")).to_have_value("")
    shot("call-logged")
    assert page.console_errors == []
