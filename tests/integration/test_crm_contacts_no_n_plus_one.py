"""No N+1 on the contact and account lists: owner, account and tags are loaded with the
page, not per row."""
import pytest

from tests.conftest import make_token
from tests.integration.test_no_n_plus_one import FEW, MANY, _statements_for
from tests.pipelines.factories import add_accounts, add_contacts, add_custom_fields


@pytest.fixture
def owner_token(app, acme) -> dict:
    return {"Authorization": f"Bearer {make_token(app, acme.owner_id, name='n+1 probe')}"}


def _grow(app, acme, globex, count, already):
    if already == 0:
        add_custom_fields(app, acme, {"key": "tier", "label": "Tier"})
    accounts = add_accounts(app, acme, *({"name": f"Account {n}"} for n in range(already, count)))
    add_contacts(app, acme, *({"first_name": f"Person {n}", "email": f"p{n}@example.com", "account_id": a,
                               "tags": [f"tag{n % 4}", "all"], "custom_fields": {"tier": "Gold"}}
                              for n, a in zip(range(already, count), accounts, strict=True)))
    if already == 0:
        add_contacts(app, globex, *({"first_name": f"Elsewhere {n}"} for n in range(MANY)))


@pytest.mark.parametrize("url", [
    "/api/v1/contacts?per_page=100",
    "/api/v1/contacts?per_page=100&tag=all&cf[tier]=Gold&sort=-email",
    "/api/v1/contacts?format=csv",
    "/api/v1/accounts?per_page=100",
])
def test_api_lists(app, acme, globex, owner_token, statements, url):
    client = app.test_client()
    fetch = lambda: client.get(url, headers=owner_token)  # noqa: E731
    _grow(app, acme, globex, FEW, 0)
    few, few_sql = _statements_for(statements, fetch)
    _grow(app, acme, globex, MANY, FEW)
    many, many_sql = _statements_for(statements, fetch)
    assert few == many, f"{FEW} rows: {few} statements, {MANY} rows: {many}\n--- few\n{few_sql}\n--- many\n{many_sql}"


@pytest.mark.parametrize("url", ["/pipelines/contacts/?per_page=100", "/pipelines/accounts/?per_page=100"])
def test_html_lists(app, acme, globex, owner_browser, statements, url):
    fetch = lambda: owner_browser.get(url)  # noqa: E731
    _grow(app, acme, globex, FEW, 0)
    few, few_sql = _statements_for(statements, fetch)
    _grow(app, acme, globex, MANY, FEW)
    many, many_sql = _statements_for(statements, fetch)
    assert few == many, f"--- few\n{few_sql}\n--- many\n{many_sql}"
