"""The board, the deals list and the deals API run as many SQL statements for 200 deals as
for 10: cards load their owner and contact with them, columns are counted in one query."""
import pytest
from sqlalchemy import func, insert, select

from app.core.models import utcnow
from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.conftest import make_token, make_user
from tests.integration.test_no_n_plus_one import _statements_for

FEW, MANY = 10, 200


def grow_deals(app, tenant, total: int, owners: list[int]) -> None:
    """Deals spread over every stage, owners and contacts (their own each), up to `total`."""
    from app.pipelines import pipelines
    from app.pipelines.models import Contact, Deal

    with app.app_context(), tenant_scope(tenant.business_id):
        pipeline = pipelines.default_pipeline()
        have = db.session.scalar(select(func.count()).select_from(Deal))
        now = utcnow()
        contacts = []
        for n in range(have, total):
            contact = Contact(first_name=f"Person {n}", owner_id=owners[n % len(owners)])
            db.session.add(contact)
            contacts.append(contact)
        db.session.flush()
        stages = pipeline.stages
        rows = []
        for offset, n in enumerate(range(have, total)):
            stage = stages[n % len(stages)]
            rows.append({"business_id": tenant.business_id, "title": f"Deal {n}", "value": n * 10, "currency": "USD",
                         "pipeline_id": pipeline.id, "stage_id": stage.id, "position": n // len(stages),
                         "owner_id": owners[n % len(owners)], "contact_id": contacts[offset].id,
                         "status": stage.kind, "stage_entered_at": now, "created_at": now, "updated_at": now,
                         "custom_fields": {}, "version": 1})
        db.session.execute(insert(Deal), rows)
        db.session.commit()


@pytest.fixture
def owners(app, acme) -> list[int]:
    return [acme.owner_id] + [make_user(app, acme, f"seller{n}@acme.example", permissions=["deals.view"])
                              for n in range(3)]


@pytest.mark.parametrize("url", ["/pipelines/board", "/pipelines/deals?per_page=100", "/pipelines/deals?q=deal"])
def test_sales_pages(app, acme, owners, owner_browser, statements, url):
    fetch = lambda: owner_browser.get(url)  # noqa: E731

    grow_deals(app, acme, FEW, owners)
    few, few_sql = _statements_for(statements, fetch)
    grow_deals(app, acme, MANY, owners)
    many, many_sql = _statements_for(statements, fetch)
    assert fetch().get_data(as_text=True).count('data-testid="deal-') > FEW
    assert few == many, f"{FEW} deals: {few} statements, {MANY}: {many}\n--- few\n{few_sql}\n--- many\n{many_sql}"


@pytest.mark.parametrize("url", ["/api/v1/deals?per_page=100", "/api/v1/deals?format=csv"])
def test_deals_api(app, acme, owners, statements, url):
    headers = {"Authorization": f"Bearer {make_token(app, acme.owner_id, name='n+1 probe')}"}
    client = app.test_client()
    fetch = lambda: client.get(url, headers=headers)  # noqa: E731

    grow_deals(app, acme, FEW, owners)
    few, few_sql = _statements_for(statements, fetch)
    grow_deals(app, acme, MANY, owners)
    many, many_sql = _statements_for(statements, fetch)
    assert few == many, f"--- few\n{few_sql}\n--- many\n{many_sql}"
