"""A new business owner works the deal board: adds deals in columns, drags one to another
stage and sees both column totals change, reloads and finds it still there; a drop on the
lost stage without a reason is refused and the card goes back."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import wait_for_htmx

pytestmark = pytest.mark.e2e


def column(page, name: str):
    return page.locator(f'[data-testid="board-column"][data-stage-name="{name}"]')


def total(page, name: str):
    return column(page, name).get_by_test_id("column-total")


def count(page, name: str):
    return column(page, name).get_by_test_id("column-count")


def card(page, title: str):
    return page.get_by_test_id("deal-card").filter(has=page.get_by_role("link", name=title, exact=True))


def add_deal(page, stage: str, title: str, value: str) -> None:
    col = column(page, stage)
    col.get_by_text("+ Add deal").click()
    col.get_by_placeholder("Deal title").fill(title)
    col.get_by_placeholder("Value, e.g. 1250").fill(value)
    col.get_by_role("button", name="Add", exact=True).click()
    expect(col.locator(".deal-card").filter(has_text=title)).to_be_visible()


def drag(page, source, target) -> None:
    """Drag with real mouse moves (SortableJS follows the pointer) and wait for the answer."""
    source.scroll_into_view_if_needed()
    box, goal = source.bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    steps = 12
    for n in range(1, steps + 1):
        page.mouse.move(box["x"] + box["width"] / 2 + (goal["x"] + goal["width"] / 2 - box["x"] - box["width"] / 2) * n / steps,
                        box["y"] + box["height"] / 2 + (goal["y"] + goal["height"] - 8 - box["y"] - box["height"] / 2) * n / steps)
        page.wait_for_timeout(30)
    page.mouse.up()
    page.wait_for_timeout(200)
    wait_for_htmx(page)


def test_drag_a_deal_to_another_stage(page, live_server, signed_in_owner, shot):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pipelines").click()
    expect(page).to_have_url(re.compile(r"/pipelines/board$"))
    expect(page.get_by_test_id("board-column")).to_have_count(6)
    expect(total(page, "Qualified")).to_have_text("$0")

    add_deal(page, "Qualified", "Greenhouse kit", "1,250")
    add_deal(page, "Proposal", "Roof garden", "8000")
    expect(total(page, "Qualified")).to_have_text("$1,250")
    expect(count(page, "Qualified")).to_have_text("1")
    expect(total(page, "Proposal")).to_have_text("$8,000")
    shot("two-deals")

    # Drag the Greenhouse kit below the Roof garden: both headers change, no reload.
    page.evaluate("window.__sameDocument = true")
    drag(page, card(page, "Greenhouse kit"), card(page, "Roof garden"))
    expect(total(page, "Proposal")).to_have_text("$9,250")
    expect(count(page, "Proposal")).to_have_text("2")
    expect(total(page, "Qualified")).to_have_text("$0")
    expect(count(page, "Qualified")).to_have_text("0")
    expect(column(page, "Proposal").get_by_role("link", name="Greenhouse kit")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    shot("moved")

    page.reload()
    expect(total(page, "Proposal")).to_have_text("$9,250")
    expect(total(page, "Qualified")).to_have_text("$0")
    titles = column(page, "Proposal").locator(".deal-title")
    expect(titles).to_have_text(["Roof garden", "Greenhouse kit"])

    # Dropped on Lost with an empty reason: refused, the card goes back, the reason is shown.
    page.once("dialog", lambda dialog: dialog.accept(""))
    drag(page, card(page, "Roof garden"), column(page, "Lost").get_by_test_id("board-cards"))
    expect(page.get_by_role("alert")).to_contain_text("A reason is required to mark a deal as lost.")
    expect(column(page, "Proposal").get_by_role("link", name="Roof garden")).to_be_visible()
    expect(total(page, "Lost")).to_have_text("$0")
    shot("lost-refused")

    # With a reason it is lost.
    page.once("dialog", lambda dialog: dialog.accept("Chose a cheaper supplier"))
    drag(page, card(page, "Roof garden"), column(page, "Lost").get_by_test_id("board-cards"))
    expect(total(page, "Lost")).to_have_text("$8,000")
    expect(total(page, "Proposal")).to_have_text("$1,250")
    assert page.console_errors == [] or all("422" in e or "status of 4" in e for e in page.console_errors)
