"""The deal board: columns with counts and totals, cards, moves with out-of-band headers,
refused moves, the inline add form, won/lost, owner filter, loading more, query counts."""
import json
import re

import pytest

from tests.conftest import make_user
from tests.web.sales_helpers import add_deals, column, deal_row, deal_values, stage_ids, use_number_format

HTMX = {"HX-Request": "true"}


@pytest.fixture
def stages(app, acme):
    return stage_ids(app, acme)


@pytest.fixture
def board_deals(app, acme, stages):
    return add_deals(app, acme,
                     {"title": "Greenhouse kit", "value": "1250", "stage_id": stages["Qualified"]},
                     {"title": "Hedge trimming", "value": "300.50", "stage_id": stages["Qualified"], "days_in_stage": 20},
                     {"title": "Roof garden", "value": "8000", "stage_id": stages["Proposal"]})


def head(html: str, stage_id: int) -> str:
    match = re.search(rf'<header[^>]*id="stage-head-{stage_id}".*?</header>', html, re.S)
    assert match, f"no header for stage {stage_id}"
    return match.group(0)


def count_and_total(html: str, stage_id: int) -> tuple[str, str]:
    block = head(html, stage_id)
    count = re.search(r'data-testid="column-count"[^>]*>(\d+)<', block).group(1)
    total = re.search(r'data-testid="column-total">([^<]+)<', block).group(1)
    return count, total


def test_board_shows_columns_with_counts_totals_and_cards(owner_browser, stages, board_deals):
    html = owner_browser.get("/pipelines/board").get_data(as_text=True)
    assert [m for m in re.findall(r'data-stage-name="([^"]+)"', html)] == [
        "Qualified", "Contact made", "Proposal", "Negotiation", "Won", "Lost"]
    assert count_and_total(html, stages["Qualified"]) == ("2", "$1,551")
    assert count_and_total(html, stages["Proposal"]) == ("1", "$8,000")
    assert count_and_total(html, stages["Won"]) == ("0", "$0")
    assert html.index("Hedge trimming") < html.index("Greenhouse kit")  # newest on top
    assert "Owner Acme" in html and 'class="deal-card card rotting' in html  # 20 days > 14
    assert html.count(" rotting ") + html.count(" rotting\"") >= 1
    assert '3 open deals worth' in html
    assert "vendor/sortablejs-1.15.6/Sortable.min.js" in html
    assert 'name="csrf_token"' in html and "X-CSRFToken" in html


def test_pipelines_redirects_to_the_board(owner_browser):
    response = owner_browser.get("/pipelines")
    assert response.status_code == 302 and response.headers["Location"].endswith("/pipelines/board")


def test_move_answers_the_card_and_both_headers_out_of_band(app, owner_browser, stages, board_deals):
    greenhouse, hedge, roof = board_deals
    response = owner_browser.post(f"/pipelines/board/deals/{greenhouse}/move", headers=HTMX,
                                  data={"stage_id": stages["Proposal"], "after_id": roof, "version": 1})
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<article") and f'id="deal-{greenhouse}"' in html
    assert 'hx-swap-oob="true"' in head(html, stages["Qualified"])
    assert count_and_total(html, stages["Qualified"]) == ("1", "$301")
    assert count_and_total(html, stages["Proposal"]) == ("2", "$9,250")
    assert column(app, stages["Proposal"]) == [("Roof garden", 0), ("Greenhouse kit", 1)]
    assert column(app, stages["Qualified"]) == [("Hedge trimming", 0)]


def test_move_to_the_top_within_a_column(app, owner_browser, stages, board_deals):
    greenhouse, hedge, _ = board_deals  # column: hedge, greenhouse
    owner_browser.post(f"/pipelines/board/deals/{greenhouse}/move", headers=HTMX,
                       data={"stage_id": stages["Qualified"], "after_id": ""})
    assert column(app, stages["Qualified"]) == [("Greenhouse kit", 0), ("Hedge trimming", 1)]
    owner_browser.post(f"/pipelines/board/deals/{greenhouse}/move", headers=HTMX,
                       data={"stage_id": stages["Qualified"], "after_id": hedge})
    assert column(app, stages["Qualified"]) == [("Hedge trimming", 0), ("Greenhouse kit", 1)]


def test_a_refused_move_puts_the_card_back_with_the_reason(app, owner_browser, stages, board_deals):
    greenhouse = board_deals[0]
    response = owner_browser.post(f"/pipelines/board/deals/{greenhouse}/move", headers=HTMX,
                                  data={"stage_id": stages["Lost"]})
    assert response.status_code == 422
    assert response.headers["HX-Reswap"] == "none"
    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger["trellis:move-failed"] == {"deal_id": greenhouse}
    assert trigger["trellis:flash"] == {"message": "A reason is required to mark a deal as lost.", "level": "danger"}
    assert deal_row(app, greenhouse).stage_id == stages["Qualified"]


def test_a_stale_move_is_refused(app, owner_browser, stages, board_deals):
    greenhouse = board_deals[0]
    owner_browser.post(f"/pipelines/deals/{greenhouse}", data={"title": "Greenhouse kit XL", "value": "1250",
                                                               "stage_id": stages["Qualified"], "version": 1})
    response = owner_browser.post(f"/pipelines/board/deals/{greenhouse}/move", headers=HTMX,
                                  data={"stage_id": stages["Proposal"], "version": 1})
    assert response.status_code == 412
    assert "Someone else changed this record" in json.loads(response.headers["HX-Trigger"])["trellis:flash"]["message"]


def test_lost_with_a_reason(app, owner_browser, stages, board_deals):
    greenhouse = board_deals[0]
    response = owner_browser.post(f"/pipelines/board/deals/{greenhouse}/move", headers=HTMX,
                                  data={"stage_id": stages["Lost"], "lost_reason": "Chose a competitor"})
    assert response.status_code == 200
    row = deal_row(app, greenhouse)
    assert (row.status, row.lost_reason) == ("lost", "Chose a competitor")


def test_move_without_htmx_redirects_back_to_the_board(app, owner_browser, stages, board_deals):
    response = owner_browser.post(f"/pipelines/board/deals/{board_deals[0]}/move", data={"stage_id": stages["Won"]})
    assert response.status_code == 303 and "/pipelines/board" in response.headers["Location"]
    assert deal_row(app, board_deals[0]).status == "won"


def test_mark_won_and_lost_from_a_card(app, owner_browser, stages, board_deals):
    greenhouse, hedge, _ = board_deals
    response = owner_browser.post(f"/pipelines/board/deals/{greenhouse}/won", headers=HTMX, data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'hx-swap-oob="afterbegin:#cards-{stages["Won"]}"' in html
    assert count_and_total(html, stages["Won"]) == ("1", "$1,250")
    assert deal_row(app, greenhouse).status == "won"
    refused = owner_browser.post(f"/pipelines/board/deals/{hedge}/lost", headers=HTMX, data={"lost_reason": ""})
    assert refused.status_code == 422 and deal_row(app, hedge).status == "open"
    owner_browser.post(f"/pipelines/board/deals/{hedge}/lost", headers=HTMX, data={"lost_reason": "No budget"})
    assert deal_row(app, hedge).lost_reason == "No budget"


def test_add_a_deal_in_a_column(app, owner_browser, stages, board_deals):
    response = owner_browser.post(f"/pipelines/board/stages/{stages['Proposal']}/deals", headers=HTMX,
                                  data={"title": "Pond liner", "value": "1,000.50"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert f'hx-swap-oob="afterbegin:#cards-{stages["Proposal"]}"' in html and "Pond liner" in html
    assert count_and_total(html, stages["Proposal"]) == ("2", "$9,001")
    assert column(app, stages["Proposal"])[0] == ("Pond liner", 0)


def test_add_a_deal_errors_come_back_in_the_form(owner_browser, stages):
    response = owner_browser.post(f"/pipelines/board/stages/{stages['Proposal']}/deals", headers=HTMX,
                                  data={"title": "", "value": "-3"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field-error="title">The title field is required.' in html
    assert 'data-field-error="value">The value must be at least 0.' in html
    assert 'value="-3"' in html


def test_owner_filter(app, acme, owner_browser, stages, board_deals):
    seller = make_user(app, acme, "seller@acme.example", permissions=["deals.view", "deals.create"],
                       first_name="Sam")
    add_deals(app, acme, {"title": "Sam deal", "value": "50", "stage_id": stages["Qualified"]}, user_id=seller)
    html = owner_browser.get(f"/pipelines/board?owner_id={seller}").get_data(as_text=True)
    assert "Sam deal" in html and "Greenhouse kit" not in html
    assert count_and_total(html, stages["Qualified"]) == ("1", "$50")


def test_a_user_without_view_all_sees_only_their_cards(app, acme, browser_as, stages, board_deals):
    make_user(app, acme, "seller@acme.example", permissions=["deals.view", "deals.create", "deals.update"])
    html = browser_as("seller@acme.example", "user-password").get("/pipelines/board").get_data(as_text=True)
    assert "Greenhouse kit" not in html and count_and_total(html, stages["Qualified"]) == ("0", "$0")


def test_another_business_deal_cannot_be_moved(app, globex, owner_browser, stages):
    theirs = add_deals(app, globex, {"title": "Globex deal"})[0]
    response = owner_browser.post(f"/pipelines/board/deals/{theirs}/move", headers=HTMX,
                                  data={"stage_id": stages["Won"]})
    assert response.status_code == 404
    assert deal_row(app, theirs).status == "open"
    assert owner_browser.get(f"/pipelines/deals/{theirs}").status_code == 404


def test_long_columns_render_their_top_and_load_more(app, acme, owner_browser, stages):
    add_deals(app, acme, *({"title": f"Deal {n:03d}", "value": "10", "stage_id": stages["Qualified"]}
                           for n in range(75)))
    html = owner_browser.get("/pipelines/board").get_data(as_text=True)
    assert html.count('data-testid="deal-card"') == 30
    assert count_and_total(html, stages["Qualified"]) == ("75", "$750")
    loader = re.search(r'data-testid="load-more"\s+hx-get="([^"]+)"\s+hx-trigger="([^"]+)"', html)
    assert loader and loader.group(2) == "intersect once"
    more = owner_browser.get(loader.group(1).replace("&amp;", "&"), headers=HTMX).get_data(as_text=True)
    assert more.count('data-testid="deal-card"') == 30 and "Deal 044" in more and "Deal 074" not in more
    last = re.search(r'data-testid="load-more"\s+hx-get="([^"]+)"', more).group(1).replace("&amp;", "&")
    rest = owner_browser.get(last, headers=HTMX).get_data(as_text=True)
    assert rest.count('data-testid="deal-card"') == 15 and 'data-testid="load-more"' not in rest


def test_user_content_is_escaped(app, acme, owner_browser, stages):
    add_deals(app, acme, {"title": "<script>alert(1)</script>", "stage_id": stages["Qualified"]})
    html = owner_browser.get("/pipelines/board").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- amounts in the add form ---------------------------------------------------------------

@pytest.mark.parametrize("value", ["1e9", "1.5k", "0x10", "12abc", "1.234,56"])
def test_add_a_deal_refuses_an_amount_it_cannot_read(app, acme, owner_browser, stages, value):
    """These were saved as 19, 1.50, 10, 12 and 1.23456, the card added to the column."""
    response = owner_browser.post(f"/pipelines/board/stages/{stages['Proposal']}/deals", headers=HTMX,
                                  data={"title": "Pond liner", "value": value})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field-error="value">The value must be an amount like 1,234.56.<' in html
    assert f'value="{value}"' in html and "Pond liner" in html and "hx-swap-oob" not in html
    assert deal_values(app, acme) == []


def test_add_a_deal_reads_the_business_number_format(app, acme, owner_browser, stages):
    use_number_format(app, acme, ",")
    response = owner_browser.post(f"/pipelines/board/stages/{stages['Proposal']}/deals", headers=HTMX,
                                  data={"title": "Pond liner", "value": "1.234,56"})
    assert response.status_code == 200
    plain = owner_browser.post(f"/pipelines/board/stages/{stages['Proposal']}/deals",
                               data={"title": "Hedge", "value": "1,234.56"})
    assert plain.status_code == 303  # without JavaScript: back to the board, the reason flashed
    assert "The value must be an amount like 1.234,56." in owner_browser.get(plain.headers["Location"]).get_data(
        as_text=True)
    assert deal_values(app, acme) == [("Pond liner", "1234.56")]


# --- another business's deal or stage: 404, htmx or not --------------------------------------

@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_another_business_deal_is_404_on_the_board(app, globex, owner_browser, stages, headers):
    their_stages = stage_ids(app, globex)
    (theirs,) = add_deals(app, globex, {"title": "Globex secret deal", "value": "700",
                                        "stage_id": their_stages["Qualified"]})
    for url, data in ((f"/pipelines/board/deals/{theirs}/won", {}),
                      (f"/pipelines/board/deals/{theirs}/lost", {"lost_reason": "Gone"}),
                      (f"/pipelines/board/deals/{theirs}/move", {"stage_id": stages["Proposal"]}),
                      (f"/pipelines/board/deals/{theirs}/move", {"stage_id": their_stages["Won"]}),
                      (f"/pipelines/board/stages/{their_stages['Qualified']}/deals", {"title": "Sneaky", "value": "1"})):
        response = owner_browser.post(url, data=data, headers=headers)
        assert response.status_code == 404, url
        assert "HX-Redirect" not in response.headers
    assert owner_browser.get(f"/pipelines/board/stages/{their_stages['Qualified']}/cards", headers=headers
                             ).status_code == 404
    row = deal_row(app, theirs)
    assert (row.status, row.stage_id, row.lost_reason) == ("open", their_stages["Qualified"], None)
    assert column(app, their_stages["Qualified"]) == [("Globex secret deal", 0)]
