"""Every screen works under the app's strict Content-Security-Policy: a walk through the
main pages (and the API docs) in Chromium with the header on, failing on any violation.

The `page` fixture (tests/e2e/conftest.py) fails every e2e test on a CSP violation; this
test makes sure the screens no other browser test opens are covered too.
"""
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.security_headers import PAGE_POLICY
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pipelines.models import Account, Contact, Deal, ImportJob, Lead, Pipeline, Stage
from app.team.models import User
from tests.e2e.flows import wait_for_htmx

pytestmark = pytest.mark.e2e


def seed(live_server, email: str) -> dict[str, int]:
    """One of each record the walk opens; returns their ids by kind."""
    with live_server.app.app_context():
        owner = db.session.scalar(select(User).where(User.email == email).execution_options(all_tenants=True))
        with tenant_scope(owner.business_id):
            pipeline = db.session.scalar(select(Pipeline).where(Pipeline.is_default.is_(True)))
            stage = db.session.scalar(select(Stage).where(Stage.pipeline_id == pipeline.id).order_by(Stage.position))
            account = Account(name="Severn Nurseries", owner_id=owner.id)
            db.session.add(account)
            db.session.flush()
            contact = Contact(first_name="Ivy", last_name="Hale", email="ivy@severn.example", account=account,
                              owner_id=owner.id, notes="Prefers calls.\nNever on Mondays.")
            lead = Lead(first_name="Rowan", last_name="Ash", email="rowan@ash.example", owner_id=owner.id)
            agent = User(is_cmmsn_agnt=True, allow_login=False, status="active", first_name="Alder",
                         last_name="Agent", address="1 Long Lane, Gloucester", cmmsn_percent=Decimal("10"))
            db.session.add_all([contact, lead, agent])
            db.session.flush()
            deal = Deal(title="Hedging for Severn", value=Decimal("1200"), pipeline_id=pipeline.id,
                        stage_id=stage.id, contact_id=contact.id, account_id=account.id, owner_id=owner.id)
            upload = ImportJob(kind="contacts", filename="people.csv", content="", status="done", total_rows=4,
                               processed_rows=4, created_count=3, error_count=1, created_by_id=owner.id,
                               errors=[{"row": 3, "errors": {"email": ["Not an e-mail address."]}}])
            db.session.add_all([deal, upload])
            db.session.commit()
            return {"contact": contact.id, "account": account.id, "lead": lead.id, "deal": deal.id,
                    "agent": agent.id, "import": upload.id, "owner": owner.id, "role": owner.role_id}


def pages(ids: dict[str, int]) -> list[str]:
    return [
        "/", "/account", "/campaigns",
        "/pipelines/board", "/pipelines/deals", f"/pipelines/deals/{ids['deal']}", "/pipelines/deals/new",
        "/pipelines/contacts/", f"/pipelines/contacts/{ids['contact']}", f"/pipelines/contacts/{ids['contact']}/edit",
        "/pipelines/contacts/new",
        "/pipelines/accounts/", f"/pipelines/accounts/{ids['account']}", "/pipelines/accounts/new",
        "/pipelines/leads", f"/pipelines/leads/{ids['lead']}", f"/pipelines/leads/{ids['lead']}/convert",
        "/pipelines/leads/new",
        "/pipelines/tasks", "/pipelines/search?q=severn",
        "/pipelines/import-export/", f"/pipelines/import-export/imports/{ids['import']}",
        "/pipelines/settings/pipelines", "/pipelines/settings/custom-fields/", "/pipelines/settings/capture-forms",
        "/pipelines/settings/capture-forms/new", "/pipelines/settings/webhook",
        "/team/users", f"/team/users/{ids['owner']}/edit", f"/team/users/{ids['owner']}/tokens", "/team/users/new",
        "/team/agents/", f"/team/agents/{ids['agent']}/statement", f"/team/agents/{ids['agent']}/edit",
        "/team/roles/", f"/team/roles/{ids['role']}/edit", "/team/roles/new",
        "/team/locations/", "/team/locations/new",
        "/settings/tokens", "/settings/business", "/settings/audit-log",
    ]


def test_every_main_screen_runs_under_the_policy(page, live_server, signed_in_owner):
    ids = seed(live_server, signed_in_owner.email)
    for path in pages(ids):
        response = page.goto(path)
        assert response.status < 400, f"{path} answered {response.status}"
        assert response.headers["content-security-policy"] == PAGE_POLICY, path
        page.wait_for_load_state("load")
        assert page.csp_violations == [], f"on {path}: {page.csp_violations}"

    # An unknown page: the error page is under the policy too.
    response = page.goto("/no-such-page")
    assert response.status == 404 and response.headers["content-security-policy"] == PAGE_POLICY
    expect(page.get_by_text("We could not find that page")).to_be_visible()
    assert page.csp_violations == []


def test_htmx_behaviours_work_without_eval_or_inline_code(page, live_server, signed_in_owner, shot):
    """What used to be trigger filters ([...]), inline handlers and style attributes."""
    ids = seed(live_server, signed_in_owner.email)

    # Live search of a list: one character does not search, two do, and clearing shows all.
    page.goto("/pipelines/contacts/")
    page.wait_for_function("() => window.htmx !== undefined")
    box = page.get_by_role("searchbox").first
    rows = page.locator("#contact-rows tr")
    expect(rows).to_have_count(1)
    with page.expect_request(lambda r: "/pipelines/contacts/?" in r.url and "q=iv" in r.url):
        box.fill("iv")
    wait_for_htmx(page)
    expect(rows).to_have_count(1)
    with page.expect_request(lambda r: "/pipelines/contacts/?" in r.url and "q=zz" in r.url):
        box.fill("zz")
    wait_for_htmx(page)
    expect(page.locator("#contact-rows").get_by_text("Ivy Hale")).to_have_count(0)
    requests = []
    page.on("request", lambda r: "/pipelines/contacts/?" in r.url and requests.append(r.url))
    box.fill("z")
    page.wait_for_timeout(600)  # past the 300 ms delay: a lone character searches nothing
    assert requests == []
    with page.expect_request(lambda r: "/pipelines/contacts/?" in r.url and "q=&" in r.url):
        box.fill("")
    wait_for_htmx(page)
    expect(page.locator("#contact-rows").get_by_text("Ivy Hale")).to_be_visible()

    # The header search fetches again when it gets the focus back with a query in it.
    search = page.get_by_role("combobox", name="Search contacts, leads, accounts and deals")
    search.fill("severn")
    listbox = page.get_by_role("listbox", name="Search results")
    expect(listbox.get_by_role("option").first).to_be_visible()
    page.mouse.click(1200, 780)  # a click elsewhere closes the list, the query stays
    expect(listbox).to_have_count(0)
    expect(search).to_have_value("severn")
    search.focus()
    expect(listbox.get_by_role("option").first).to_be_visible()

    # A contact's notes keep their line breaks (a class now, not a style attribute).
    page.goto(f"/pipelines/contacts/{ids['contact']}")
    notes = page.locator("#field-f-notes .text-pre-line")
    expect(notes).to_have_css("white-space", "pre-line")

    # In-place editing swaps a form in and back (htmx settles no style attribute).
    page.wait_for_load_state("load")
    page.get_by_role("link", name="Edit notes").click()
    page.locator("#f-notes").fill("Calls only.")
    page.locator("#field-f-notes").get_by_role("button", name="Save").click()
    expect(page.locator("#field-f-notes")).to_contain_text("Calls only.")

    # The lead's convert dialog: htmx loads it, Bootstrap shows it.
    page.goto(f"/pipelines/leads/{ids['lead']}")
    page.wait_for_load_state("load")
    page.get_by_test_id("convert-button").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.get_by_role("dialog").get_by_role("button", name="Close").click()
    expect(page.locator(".modal")).to_be_hidden()

    # The import's progress is a <progress>, not a div with a width.
    page.goto(f"/pipelines/import-export/imports/{ids['import']}")
    expect(page.get_by_role("progressbar", name="Import progress")).to_have_attribute("value", "100")
    shot("job-progress")

    # Confirmations asked by data-confirm: cancelling sends nothing, accepting deletes.
    page.goto("/pipelines/deals")
    page.wait_for_load_state("load")
    page.get_by_role("checkbox", name="Tick Hedging for Severn").check()
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Delete", exact=True).click()
    page.wait_for_timeout(300)
    assert asked == ["Delete 1 deal? This cannot be undone."]
    expect(page.get_by_role("link", name="Hedging for Severn")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("link", name="Hedging for Severn")).to_have_count(0)

    # The leads bulk form asks only when the chosen action is Delete.
    page.goto("/pipelines/leads")
    page.wait_for_load_state("load")
    page.get_by_role("checkbox", name="Tick Rowan Ash").check()
    page.locator("#bulk-action").select_option("delete")
    asked.clear()
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Apply").click()
    page.wait_for_timeout(300)
    assert asked == ["Delete the ticked leads? This cannot be undone."]
    expect(page.get_by_role("link", name="Rowan Ash")).to_be_visible()

    # The statement's month picker submits itself.
    page.goto(f"/team/agents/{ids['agent']}/statement")
    page.wait_for_load_state("load")
    with page.expect_navigation():
        page.get_by_role("textbox", name="Month").fill("2025-03")
    assert "month=2025-03" in page.url


def test_api_docs_render_under_the_policy(page, live_server, signed_in_owner, shot):
    response = page.goto("/api/docs")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "unsafe-eval" not in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Trellis CRM API", timeout=15_000)
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()  # an operation opens (React re-renders, still no violation)
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    shot("api-docs", full_page=False)
