"""The board's summary ("N open deals worth ...") follows every change without a reload
(an out-of-band fragment from the same template as the page), and a deal won or lost
from a card can be put back from the message that confirms it."""
import re

import pytest

from tests.conftest import make_user
from tests.pipelines.factories import events
from tests.web.sales_helpers import add_deals, column, deal_row, stage_ids

HTMX = {"HX-Request": "true"}


@pytest.fixture
def stages(app, acme):
    return stage_ids(app, acme)


@pytest.fixture
def board_deals(app, acme, stages):
    """Qualified: Hedge trimming (top), Greenhouse kit; Proposal: Roof garden."""
    return add_deals(app, acme,
                     {"title": "Greenhouse kit", "value": "1250", "stage_id": stages["Qualified"]},
                     {"title": "Hedge trimming", "value": "300.50", "stage_id": stages["Qualified"]},
                     {"title": "Roof garden", "value": "18500", "stage_id": stages["Proposal"]})


def summary(html: str, oob: bool = True) -> str:
    match = re.search(r'<div class="board-summary[^"]*" id="board-summary"([^>]*)>(.*?)</div>', html, re.S)
    assert match, "no board summary"
    assert ('hx-swap-oob="true"' in match.group(1)) is oob
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())


def undo_form(html: str) -> dict:
    form = re.search(r'<form[^>]*action="(/pipelines/board/deals/\d+/reopen)".*?</form>', html, re.S)
    assert form, "no Undo"
    values = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(0)))
    values["url"] = form.group(1)
    return values


def test_the_page_and_its_fragments_share_the_summary(owner_browser, board_deals):
    page = owner_browser.get("/pipelines/board").get_data(as_text=True)
    assert summary(page, oob=False) == "3 open deals worth $20,051 · weighted $9,405"


def test_won_from_a_card_updates_the_summary_and_offers_undo(app, owner_browser, stages, board_deals):
    greenhouse = board_deals[0]
    response = owner_browser.post(f"/pipelines/board/deals/{greenhouse}/won", headers=HTMX, data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert summary(html) == "2 open deals worth $18,801 · weighted $9,280"
    assert '<div hx-swap-oob="innerHTML:#flashes">' in html and "\u201cGreenhouse kit\u201d marked won." in html
    form = undo_form(html)
    assert form.pop("csrf_token")
    assert form.pop("entered").endswith("+00:00")  # when it entered Qualified (the clock Undo keeps)
    assert form == {"url": f"/pipelines/board/deals/{greenhouse}/reopen", "owner_id": "",
                    "stage_id": str(stages["Qualified"]), "position": "1", "version": "2"}
    assert "HX-Trigger" not in response.headers  # the message comes out of band, not as an event


def test_moves_and_quick_adds_update_the_summary(owner_browser, stages, board_deals):
    greenhouse = board_deals[0]
    moved = owner_browser.post(f"/pipelines/board/deals/{greenhouse}/move", headers=HTMX,
                               data={"stage_id": stages["Negotiation"]}).get_data(as_text=True)
    assert summary(moved) == "3 open deals worth $20,051 · weighted $10,280"
    assert "Undo" not in moved  # still open: nothing to undo
    added = owner_browser.post(f"/pipelines/board/stages/{stages['Proposal']}/deals", headers=HTMX,
                               data={"title": "Pond liner", "value": "1,000"}).get_data(as_text=True)
    assert summary(added) == "4 open deals worth $21,051 · weighted $10,780"
    lost = owner_browser.post(f"/pipelines/board/deals/{greenhouse}/move", headers=HTMX,
                              data={"stage_id": stages["Lost"], "lost_reason": "Too dear"}).get_data(as_text=True)
    assert summary(lost) == "3 open deals worth $19,801 · weighted $9,780"
    assert undo_form(lost)["stage_id"] == str(stages["Negotiation"])  # dropped on Lost: Undo too


def test_undo_puts_a_won_deal_back_where_it_was(app, owner_browser, stages, board_deals):
    greenhouse, hedge, _ = board_deals
    won = owner_browser.post(f"/pipelines/board/deals/{greenhouse}/won", headers=HTMX, data={}).get_data(as_text=True)
    form = undo_form(won)
    response = owner_browser.post(form.pop("url"), headers=HTMX, data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "\u201cGreenhouse kit\u201d is open again, back in Qualified." in html
    assert f'<div id="deal-{greenhouse}" hx-swap-oob="delete"></div>' in html
    assert f'<div hx-swap-oob="innerHTML:#cards-{stages["Qualified"]}">' in html
    assert html.index("Hedge trimming") < html.index(f'id="deal-{greenhouse}" data-deal-id')
    assert summary(html) == "3 open deals worth $20,051 · weighted $9,405"
    row = deal_row(app, greenhouse)
    assert (row.status, row.stage_id, row.closed_at) == ("open", stages["Qualified"], None)
    assert column(app, stages["Qualified"]) == [("Hedge trimming", 0), ("Greenhouse kit", 1)]
    assert column(app, stages["Won"]) == []
    assert events(app, "deal.reopened")[-1]["was"] == "won"
    assert hedge  # untouched


def test_undo_of_lost_clears_the_reason(app, owner_browser, stages, board_deals):
    hedge = board_deals[1]
    lost = owner_browser.post(f"/pipelines/board/deals/{hedge}/lost", headers=HTMX,
                              data={"lost_reason": "No budget"}).get_data(as_text=True)
    form = undo_form(lost)
    owner_browser.post(form.pop("url"), headers=HTMX, data=form)
    row = deal_row(app, hedge)
    assert (row.status, row.lost_reason, row.stage_id, row.position) == ("open", None, stages["Qualified"], 0)


def test_undo_refuses_what_it_cannot_do(app, owner_browser, stages, board_deals):
    greenhouse, hedge, _ = board_deals
    url = f"/pipelines/board/deals/{hedge}/reopen"
    still_open = owner_browser.post(url, headers=HTMX, data={"stage_id": stages["Qualified"]})
    assert still_open.status_code == 409 and deal_row(app, hedge).status == "open"
    owner_browser.post(f"/pipelines/board/deals/{greenhouse}/won", headers=HTMX, data={})
    url = f"/pipelines/board/deals/{greenhouse}/reopen"
    to_lost = owner_browser.post(url, headers=HTMX, data={"stage_id": stages["Lost"]})
    assert to_lost.status_code == 422 and deal_row(app, greenhouse).status == "won"
    stale = owner_browser.post(url, headers=HTMX, data={"stage_id": stages["Qualified"], "version": "1"})
    assert stale.status_code == 412 and deal_row(app, greenhouse).status == "won"
    plain = owner_browser.post(url, data={"stage_id": stages["Qualified"], "position": "1"})
    assert plain.status_code == 303 and deal_row(app, greenhouse).status == "open"


def test_undo_needs_deals_update(app, acme, browser_as, stages, board_deals):
    greenhouse = board_deals[0]
    make_user(app, acme, "viewer@acme.example", ["deals.view", "deals.view_all"])
    viewer = browser_as("viewer@acme.example", "user-password")
    response = viewer.post(f"/pipelines/board/deals/{greenhouse}/won", headers=HTMX, data={})
    assert response.status_code == 403
    response = viewer.post(f"/pipelines/board/deals/{greenhouse}/reopen", headers=HTMX,
                           data={"stage_id": stages["Qualified"]})
    assert response.status_code == 403
    assert "Undo" not in viewer.get("/pipelines/board").get_data(as_text=True)


def test_undo_of_another_business_deal_is_404(app, globex, owner_browser, stages):
    globex_stages = stage_ids(app, globex)
    theirs = add_deals(app, globex, {"title": "Globex deal", "stage_id": globex_stages["Won"]})[0]
    response = owner_browser.post(f"/pipelines/board/deals/{theirs}/reopen", headers=HTMX,
                                  data={"stage_id": globex_stages["Qualified"]})
    assert response.status_code == 404
    assert deal_row(app, theirs).status == "won"


def test_undo_keeps_the_days_in_stage_clock(app, acme, owner_browser, stages):
    """A deal 19 days in its stage, won by mistake and undone, is still 19 days in it
    (and still marked as rotting), not "0d"."""
    from app.core.models import as_utc

    rotting = add_deals(app, acme, {"title": "Roundabout", "value": "10", "stage_id": stages["Qualified"],
                                    "days_in_stage": 19})[0]
    entered = as_utc(deal_row(app, rotting).stage_entered_at)
    won = owner_browser.post(f"/pipelines/board/deals/{rotting}/won", headers=HTMX, data={}).get_data(as_text=True)
    form = undo_form(won)
    assert form["entered"] == entered.isoformat()
    assert owner_browser.post(form.pop("url"), headers=HTMX, data=form).status_code == 200
    assert as_utc(deal_row(app, rotting).stage_entered_at) == entered
    # A made-up time (in the future, or before the deal existed) is ignored: the clock restarts.
    owner_browser.post(f"/pipelines/board/deals/{rotting}/won", headers=HTMX, data={})
    owner_browser.post(f"/pipelines/board/deals/{rotting}/reopen", headers=HTMX,
                       data={"stage_id": stages["Qualified"], "entered": "2999-01-01T00:00:00+00:00"})
    assert as_utc(deal_row(app, rotting).stage_entered_at) > entered
