"""Commission statement per agent and month: JSON, CSV and the screen (issue 4)."""
import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import update

from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.api.test_commission_agents import add_agents
from tests.conftest import make_token, make_user

NOT_FOUND = {"message": "Not found"}


def add_won_deals(app, tenant, agent_id, rows):
    """rows: (title, value, currency, status, closed_at); returns deal ids."""
    from app.pipelines.models import Contact, Deal, Pipeline, Stage

    with app.app_context(), tenant_scope(tenant.business_id):
        pipeline = Pipeline(name="Sales", is_default=True)
        stage = Stage(pipeline=pipeline, name="Won", kind="won", probability=100)
        contact = Contact(first_name="Ada", last_name="Lovelace", email="ada@example.com")
        db.session.add_all([pipeline, stage, contact])
        db.session.flush()
        deals = [Deal(title=title, value=Decimal(value), currency=currency, status=status, closed_at=closed,
                      pipeline_id=pipeline.id, stage_id=stage.id, commission_agent_id=agent_id, contact=contact)
                 for title, value, currency, status, closed in rows]
        db.session.add_all(deals)
        db.session.commit()
        return [d.id for d in deals]


def set_timezone(app, tenant, zone):
    from app.team.models import Business

    with app.app_context():
        db.session.execute(update(Business).where(Business.id == tenant.business_id).values(timezone=zone))
        db.session.commit()


@pytest.fixture
def agent(app, acme):
    return add_agents(app, acme, {"first_name": "Sam", "last_name": "Seller", "cmmsn_percent": Decimal("12.5")})[0]


@pytest.fixture
def november(app, acme, agent):
    set_timezone(app, acme, "America/New_York")
    return add_won_deals(app, acme, agent, [
        ("Shop fit-out", "1000.00", "USD", "won", datetime(2026, 11, 3, 15, 0, tzinfo=UTC)),
        ("Window display", "99.99", "USD", "won", datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
        # 02:00 UTC on 1 November is still 31 October in New York: October's statement.
        ("Late October", "500.00", "USD", "won", datetime(2026, 11, 1, 2, 0, tzinfo=UTC)),
        ("Lost one", "800.00", "USD", "lost", datetime(2026, 11, 5, 9, 0, tzinfo=UTC)),
        ("Euro deal", "200.00", "EUR", "won", datetime(2026, 11, 6, 9, 0, tzinfo=UTC)),
    ])


def test_statement_lists_won_deals_of_the_month_in_the_business_time_zone(api, agent, november):
    response = api.get(f"/api/v1/commission-agents/{agent}/statement?month=2026-11")
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["month"] == "2026-11"
    assert data["cmmsn_percent"] == 12.5
    assert data["agent"]["id"] == agent and data["agent"]["full_name"] == "Sam Seller"
    assert [(line["deal"]["title"], line["value"], line["commission"]) for line in data["lines"]] == [
        ("Shop fit-out", "1000.00", "125.00"),
        ("Euro deal", "200.00", "25.00"),
        ("Window display", "99.99", "12.50"),  # 12.49875 rounds half up to the cent
    ]
    assert data["lines"][0]["won_at"] == "2026-11-03T15:00:00Z"
    assert data["totals"] == [
        {"currency": "EUR", "value": "200.00", "commission": "25.00"},
        {"currency": "USD", "value": "1099.99", "commission": "137.50"},
    ]


def test_statement_month_boundary_follows_the_time_zone(api, agent, november):
    data = api.get(f"/api/v1/commission-agents/{agent}/statement?month=2026-10").get_json()["data"]
    assert [line["deal"]["title"] for line in data["lines"]] == ["Late October"]
    assert data["totals"] == [{"currency": "USD", "value": "500.00", "commission": "62.50"}]


def test_statement_of_an_empty_month(api, agent, november):
    data = api.get(f"/api/v1/commission-agents/{agent}/statement?month=2025-01").get_json()["data"]
    assert data["lines"] == [] and data["totals"] == []


def test_statement_rejects_a_bad_month(api, agent):
    response = api.get(f"/api/v1/commission-agents/{agent}/statement?month=november")
    assert response.status_code == 422
    assert response.get_json() == {"message": "The month must be written as YYYY-MM, e.g. 2026-11.",
                                   "errors": {"month": ["The month must be written as YYYY-MM, e.g. 2026-11."]}}


def test_statement_csv_is_one_row_per_deal(api, agent, november):
    response = api.get(f"/api/v1/commission-agents/{agent}/statement?month=2026-11&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="commission-{agent}-2026-11.csv"'
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["month", "deal_id", "deal", "contact", "account", "won_at", "currency", "value", "percent",
                       "commission"]
    assert rows[1][2:] == ["Shop fit-out", "Ada Lovelace", "", "2026-11-03T15:00:00Z", "USD", "1000.00", "12.5",
                           "125.00"]
    assert len(rows) == 4


def test_statement_needs_user_view_and_deals_view_all(app, acme, agent, api_as):
    only_users = make_user(app, acme, "hr@acme.example", permissions=["user.view"])
    both = make_user(app, acme, "boss@acme.example", permissions=["user.view", "deals.view_all"])
    url = f"/api/v1/commission-agents/{agent}/statement"
    assert api_as(only_users).get(url).status_code == 403
    assert api_as(both).get(url).status_code == 200
    narrowed = make_token(app, both, abilities=["user.view"])
    response = app.test_client().get(url, headers={"Authorization": f"Bearer {narrowed}"})
    assert response.status_code == 403


def test_statement_of_another_business_agent_is_404(app, globex, agent, api_as):
    response = api_as(globex.owner_id).get(f"/api/v1/commission-agents/{agent}/statement")
    assert response.status_code == 404
    assert response.get_json() == NOT_FOUND


def test_statement_of_a_staff_user_is_404(api, acme):
    response = api.get(f"/api/v1/commission-agents/{acme.owner_id}/statement")
    assert response.status_code == 404


# --- the screen ------------------------------------------------------------------------

def test_statement_page_shows_lines_and_totals(owner_browser, agent, november):
    page = owner_browser.get(f"/team/agents/{agent}/statement?month=2026-11")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-testid="statement-line"') == 3
    assert "Shop fit-out" in html and "$1,000.00" in html and "$125.00" in html
    assert "€200.00" in html and "€25.00" in html
    assert "$1,099.99" in html and "$137.50" in html
    assert "Late October" not in html and "Lost one" not in html
    assert f'href="/team/agents/{agent}/statement?month=2026-10"' in html
    assert f'href="/team/agents/{agent}/statement?month=2026-12"' in html


def test_statement_page_uses_the_business_decimal_comma(app, acme, owner_browser, agent, november):
    from app.team.models import Business

    with app.app_context():
        db.session.execute(update(Business).where(Business.id == acme.business_id).values(decimal_separator=","))
        db.session.commit()
    html = owner_browser.get(f"/team/agents/{agent}/statement?month=2026-11").get_data(as_text=True)
    assert "1.000,00" in html and "12,5%" in html


def test_statement_page_csv_download(owner_browser, agent, november):
    response = owner_browser.get(f"/team/agents/{agent}/statement?month=2026-11&format=csv")
    assert response.status_code == 200
    assert response.get_data().decode("utf-8-sig").splitlines()[0].startswith("month,deal_id,deal")


def test_statement_page_escapes_deal_titles(app, acme, owner_browser, agent):
    add_won_deals(app, acme, agent, [("<script>x</script>", "10", "USD", "won", datetime.now(UTC))])
    html = owner_browser.get(f"/team/agents/{agent}/statement").get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_statement_page_bad_month_falls_back_with_a_message(owner_browser, agent):
    response = owner_browser.get(f"/team/agents/{agent}/statement?month=13-2026", follow_redirects=True)
    assert response.status_code == 200
    assert "The month must be written as YYYY-MM" in response.get_data(as_text=True)


def test_statement_page_permission_and_tenancy(app, acme, globex, agent, browser_as):
    make_user(app, acme, "hr@acme.example", permissions=["user.view"])
    assert browser_as("hr@acme.example", "user-password").get(f"/team/agents/{agent}/statement").status_code == 403
    other = browser_as("owner@globex.example", "owner-password")
    assert other.get(f"/team/agents/{agent}/statement").status_code == 404


def test_agents_list_links_to_the_statement(owner_browser, agent):
    html = owner_browser.get("/team/agents/").get_data(as_text=True)
    assert f'href="/team/agents/{agent}/statement"' in html
