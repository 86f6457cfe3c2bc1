"""Screens that used to lose work. A salesperson ticks contacts, picks a status in the bulk
bar (which used to reload the list and untick them), applies it, then selects all the
contacts the filter matches. On the board, won from a card updates the summary above
the columns without a reload, and Undo in the message puts the deal back."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pipelines.models import Contact
from app.team.models import User
from tests.e2e.flows import wait_for_htmx
from tests.e2e.test_board import add_deal, card, column, count, drag, total

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


def seed_contacts(live_server, email: str, how_many: int) -> None:
    with live_server.app.app_context():
        owner = db.session.scalar(select(User).where(User.email == email).execution_options(all_tenants=True))
        with tenant_scope(owner.business_id):
            db.session.add_all(Contact(first_name=f"Contact{n:02d}", last_name="Gardener", status="Lead",
                                       owner_id=owner.id, email=f"c{n:02d}@garden.example") for n in range(how_many))
            db.session.commit()


def statuses(live_server, email: str) -> list[str]:
    with live_server.app.app_context():
        owner = db.session.scalar(select(User).where(User.email == email).execution_options(all_tenants=True))
        with tenant_scope(owner.business_id):
            return list(db.session.scalars(select(Contact.status).order_by(Contact.first_name)))


def row_box(page, name: str):
    return page.get_by_role("checkbox", name=f"Select {name}", exact=True)


def test_bulk_selection_survives_the_bulk_bar_and_selects_all_matching(page, live_server, signed_in_owner, shot):
    seed_contacts(live_server, signed_in_owner.email, 25)
    page.goto("/pipelines/contacts/")
    page.wait_for_load_state("load")
    expect(page.get_by_test_id("contact-row")).to_have_count(20)
    page.evaluate("window.__sameDocument = true")

    # Tick two, pick a status in the bulk bar: nothing reloads, both stay ticked.
    row_box(page, "Contact01 Gardener").check()
    row_box(page, "Contact02 Gardener").check()
    page.get_by_label("New status").select_option("Customer")
    page.wait_for_timeout(500)
    wait_for_htmx(page)
    expect(row_box(page, "Contact01 Gardener")).to_be_checked()
    expect(row_box(page, "Contact02 Gardener")).to_be_checked()
    assert page.evaluate("window.__sameDocument") is True

    # A reload of the list by its own filter keeps the ticks of the rows still shown.
    page.get_by_label("Status", exact=True).select_option("Lead")
    expect(page).to_have_url(re.compile(r"status=Lead"))
    wait_for_htmx(page)
    expect(row_box(page, "Contact01 Gardener")).to_be_checked()
    page.get_by_label("New status").select_option("Customer")
    shot("two-ticked-desktop")
    page.set_viewport_size(PHONE)
    shot("two-ticked-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Set status").click()
    expect(page.get_by_role("alert")).to_contain_text("Changed the status of 2 contacts.")
    assert statuses(live_server, signed_in_owner.email)[1:3] == ["Customer", "Customer"]

    # Every row of the page ticked: the list offers all 23 leads it matches.
    offer = page.get_by_test_id("select-matching")
    expect(offer).to_be_hidden()
    page.get_by_role("checkbox", name="Select all on this page").check()
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("All 20 contacts on this page are ticked.")
    offer.get_by_role("button", name="Select all 23 matching contacts").click()
    expect(offer).to_contain_text("All 23 matching contacts are selected.")
    page.get_by_label("New status").select_option("Customer")
    expect(offer).to_contain_text("All 23 matching contacts are selected.")
    shot("all-matching")
    page.get_by_role("button", name="Set status").click()
    expect(page.get_by_role("alert")).to_contain_text("Changed the status of 23 contacts.")
    assert statuses(live_server, signed_in_owner.email) == ["Customer"] * 25

    # Unticking a row takes the offer back; Clear selection unticks everything.
    page.goto("/pipelines/contacts/")
    page.get_by_role("checkbox", name="Select all on this page").check()
    offer.get_by_role("button", name="Select all 25 matching contacts").click()
    offer.get_by_role("button", name="Clear selection").click()
    expect(offer).to_be_hidden()
    expect(page.locator("#contact-rows input:checked")).to_have_count(0)
    assert page.console_errors == []


def summary(page):
    return page.get_by_test_id("board-summary")


def test_board_summary_follows_won_and_undo_without_a_reload(page, live_server, signed_in_owner, shot):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pipelines").click()
    expect(page).to_have_url(re.compile(r"/pipelines/board$"))
    add_deal(page, "Qualified", "Greenhouse kit", "1,250")
    add_deal(page, "Proposal", "Commercial glasshouse", "18,500")
    expect(summary(page)).to_contain_text("2 open deals worth $19,750")
    page.evaluate("window.__sameDocument = true")

    # The value stays inside its card, however long the title.
    value = card(page, "Commercial glasshouse").locator(".deal-value")
    expect(value).to_have_text("$18,500")
    inner = card(page, "Commercial glasshouse").bounding_box()
    box = value.bounding_box()
    assert box["x"] + box["width"] <= inner["x"] + inner["width"]

    # Won from the card: the summary and both columns change at once; Undo puts it back.
    card(page, "Greenhouse kit").get_by_role("button", name="Mark Greenhouse kit won").click()
    expect(summary(page)).to_contain_text("1 open deal worth $18,500")
    expect(total(page, "Won")).to_have_text("$1,250")
    flash = page.get_by_test_id("closed-flash")
    expect(flash).to_contain_text("“Greenhouse kit” marked won.")
    shot("won-with-undo")
    flash.get_by_role("button", name="Undo: reopen Greenhouse kit").click()
    expect(page.get_by_test_id("reopened-flash")).to_contain_text("“Greenhouse kit” is open again, back in Qualified.")
    expect(summary(page)).to_contain_text("2 open deals worth $19,750")
    expect(total(page, "Won")).to_have_text("$0")
    expect(count(page, "Qualified")).to_have_text("1")
    expect(column(page, "Qualified").get_by_role("link", name="Greenhouse kit")).to_be_visible()
    expect(column(page, "Won").get_by_test_id("deal-card")).to_have_count(0)

    # Dropped on Won: the same summary update and the same Undo.
    drag(page, card(page, "Commercial glasshouse"), column(page, "Won").get_by_test_id("board-cards"))
    expect(summary(page)).to_contain_text("1 open deal worth $1,250")
    expect(page.get_by_test_id("closed-flash")).to_contain_text("“Commercial glasshouse” marked won.")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    shot("board-desktop")
    page.set_viewport_size(PHONE)
    shot("board-phone")
    page.reload()
    expect(summary(page)).to_contain_text("1 open deal worth $1,250")
    assert page.console_errors == []


def test_deals_list_keeps_the_ticks_and_confirms_a_delete_with_the_count(page, live_server, signed_in_owner, shot):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pipelines").click()
    for title in ("Pond liner", "Hedge trimming", "Fruit cage"):
        add_deal(page, "Qualified", title, "100")
    page.goto("/pipelines/deals")
    page.wait_for_load_state("load")
    page.get_by_role("checkbox", name="Tick Pond liner").check()
    page.get_by_role("checkbox", name="Tick Fruit cage").check()
    page.get_by_label("New owner").select_option(index=2)  # past "Choose an owner…" and "No owner"
    page.wait_for_timeout(500)
    wait_for_htmx(page)
    expect(page.get_by_role("checkbox", name="Tick Pond liner")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Tick Fruit cage")).to_be_checked()

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Delete", exact=True).click()
    page.wait_for_timeout(300)
    assert asked == ["Delete 2 deals? This cannot be undone."]
    expect(page.get_by_test_id("deal-row")).to_have_count(3)  # dismissed: nothing deleted

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("2 deals deleted.")
    expect(page.get_by_test_id("deal-row")).to_have_count(1)
    assert page.console_errors == []
