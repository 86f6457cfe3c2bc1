"""No N+1: the number of SQL statements a list page or endpoint runs does not grow with
the number of rows it shows (counts, not timings; timings live in bench/)."""
import pytest

from tests.conftest import make_token
from tests.integration.conftest import add_locations, add_tokens

FEW, MANY = 3, 30


def _statements_for(statements, fetch) -> tuple[int, str]:
    """Statements of the second identical request: the first may do one-off writes
    (a token's last-used stamp, the session cookie refresh)."""
    with fetch() as response:  # closing ends a streamed answer (and its request context)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
    with statements() as log, fetch() as response:
        assert response.status_code == 200
        response.get_data()  # a CSV streams: its queries run while the body is read
    return log.count, str(log)


@pytest.fixture
def owner_token(app, acme) -> dict:
    return {"Authorization": f"Bearer {make_token(app, acme.owner_id, name='n+1 probe')}"}


def _grow_locations(app, acme, globex, count, already):
    add_locations(app, acme.business_id, count - already, start=already)
    if already == 0:
        add_locations(app, globex.business_id, MANY, prefix="Elsewhere")  # another tenant's rows


@pytest.mark.parametrize("url", [
    "/api/v1/locations?per_page=100",
    "/api/v1/locations?per_page=100&sort=-city&q=loc",
    "/api/v1/locations?per_page=100&is_active=1&filter[country]=GB",
])
def test_api_locations(app, acme, globex, owner_token, statements, url):
    client = app.test_client()
    fetch = lambda: client.get(url, headers=owner_token)  # noqa: E731

    _grow_locations(app, acme, globex, FEW, 0)
    few, few_sql = _statements_for(statements, fetch)
    assert len(fetch().json["data"]) <= FEW
    _grow_locations(app, acme, globex, MANY, FEW)
    many, many_sql = _statements_for(statements, fetch)
    assert len(fetch().json["data"]) > FEW
    assert few == many, f"{FEW} rows: {few} statements, {MANY} rows: {many}\n--- few\n{few_sql}\n--- many\n{many_sql}"


def test_api_locations_csv(app, acme, globex, owner_token, statements):
    client = app.test_client()
    fetch = lambda: client.get("/api/v1/locations?format=csv", headers=owner_token)  # noqa: E731

    _grow_locations(app, acme, globex, FEW, 0)
    few, few_sql = _statements_for(statements, fetch)
    _grow_locations(app, acme, globex, MANY, FEW)
    many, many_sql = _statements_for(statements, fetch)
    assert fetch().get_data(as_text=True).count("\r\n") == MANY + 1
    assert few == many, f"--- few\n{few_sql}\n--- many\n{many_sql}"


@pytest.mark.parametrize("url", ["/team/locations/?per_page=100", "/team/locations/?per_page=100&q=loc"])
def test_locations_page(app, acme, globex, owner_browser, statements, url):
    fetch = lambda: owner_browser.get(url)  # noqa: E731
    htmx = lambda: owner_browser.get(url, headers={"HX-Request": "true"})  # noqa: E731

    _grow_locations(app, acme, globex, FEW, 0)
    few, few_sql = _statements_for(statements, fetch)
    few_htmx, _ = _statements_for(statements, htmx)
    _grow_locations(app, acme, globex, MANY, FEW)
    many, many_sql = _statements_for(statements, fetch)
    many_htmx, _ = _statements_for(statements, htmx)
    assert fetch().get_data(as_text=True).count('data-testid="location-row"') == MANY
    assert few == many, f"--- few\n{few_sql}\n--- many\n{many_sql}"
    assert few_htmx == many_htmx


def test_settings_tokens_page(app, acme, owner_browser, statements):
    fetch = lambda: owner_browser.get("/settings/tokens")  # noqa: E731

    add_tokens(app, acme.owner_id, FEW)
    few, few_sql = _statements_for(statements, fetch)
    add_tokens(app, acme.owner_id, MANY - FEW)
    many, many_sql = _statements_for(statements, fetch)
    assert fetch().get_data(as_text=True).count('data-testid="token-row"') == MANY
    assert few == many, f"--- few\n{few_sql}\n--- many\n{many_sql}"


def test_api_my_tokens(app, acme, owner_token, statements):
    client = app.test_client()
    fetch = lambda: client.get("/api/v1/me/tokens", headers=owner_token)  # noqa: E731

    add_tokens(app, acme.owner_id, FEW)
    few, few_sql = _statements_for(statements, fetch)
    add_tokens(app, acme.owner_id, MANY - FEW)
    many, many_sql = _statements_for(statements, fetch)
    assert len(fetch().json["data"]) == MANY + 1  # and the probe's own token
    assert few == many, f"--- few\n{few_sql}\n--- many\n{many_sql}"


def _grow_roles(app, acme, globex, count, already):
    """Roles 2..count-1 of Acme (Admin and Cashier are the first two), each held by a user."""
    from sqlalchemy import insert

    from app.core.models import utcnow
    from app.extensions import db
    from app.team.models import Role, User

    now = utcnow()
    with app.app_context():
        for tenant, start, stop in ((acme, max(already, 2), count),) + (((globex, 2, MANY),) if not already else ()):
            for n in range(start, stop):
                role_id = db.session.execute(insert(Role).values(
                    business_id=tenant.business_id, name=f"Role {n:03d}#{tenant.business_id}", guard_name="web",
                    is_default=False, is_service_staff=False, created_at=now, updated_at=now)).inserted_primary_key[0]
                db.session.execute(insert(User).values(
                    business_id=tenant.business_id, first_name=f"User {n}", role_id=role_id, status="active",
                    allow_login=False, is_cmmsn_agnt=False, selected_contacts=False, location_scope="all",
                    session_nonce=0, created_at=now, updated_at=now))
        db.session.commit()


@pytest.mark.parametrize("url", [
    "/api/v1/roles?per_page=100",
    "/api/v1/roles?per_page=100&sort=-users_count&q=ro",
    "/api/v1/roles?format=csv",
])
def test_api_roles(app, acme, globex, owner_token, statements, url):
    client = app.test_client()
    fetch = lambda: client.get(url, headers=owner_token)  # noqa: E731

    _grow_roles(app, acme, globex, FEW, 0)
    few, few_sql = _statements_for(statements, fetch)
    _grow_roles(app, acme, globex, MANY, FEW)
    many, many_sql = _statements_for(statements, fetch)
    if "csv" in url:
        assert fetch().get_data(as_text=True).count("\r\n") == MANY + 1
    else:
        data = fetch().json["data"]
        assert len(data) == (MANY if "q=" not in url else MANY - 2)
        assert sum(row["users_count"] for row in data) == len(data) - 1 + ("q=" in url)  # Cashier has none
    assert few == many, f"{FEW} roles: {few} statements, {MANY} roles: {many}\n--- few\n{few_sql}\n--- many\n{many_sql}"


@pytest.mark.parametrize("url", ["/api/v1/commission-agents?per_page=100",
                                 "/api/v1/commission-agents?per_page=100&q=agent&sort=name",
                                 "/api/v1/commission-agents?format=csv"])
def test_api_commission_agents(app, acme, globex, owner_token, statements, url):
    from tests.api.test_commission_agents import add_agents

    client = app.test_client()
    fetch = lambda: client.get(url, headers=owner_token)  # noqa: E731

    add_agents(app, acme, *({"first_name": f"Agent {n}", "cmmsn_percent": n} for n in range(FEW)))
    add_agents(app, globex, *({"first_name": f"Elsewhere {n}"} for n in range(MANY)))
    few, few_sql = _statements_for(statements, fetch)
    add_agents(app, acme, *({"first_name": f"Agent {n}", "cmmsn_percent": n} for n in range(FEW, MANY)))
    many, many_sql = _statements_for(statements, fetch)
    assert fetch().get_data(as_text=True).count("Agent ") == MANY
    assert few == many, f"--- few\n{few_sql}\n--- many\n{many_sql}"


def _grow_audit_log(app, business_id: int, count: int, start: int) -> None:
    """`count` entries, each by a different user, so loading actors one by one would show."""
    from sqlalchemy import insert

    from app.core.audit import AuditEntry
    from app.core.models import utcnow
    from app.extensions import db
    from app.team.models import User

    now = utcnow()
    with app.app_context():
        users = [{"business_id": business_id, "first_name": f"Actor {n}", "username": f"actor{n}", "status": "active",
                  "allow_login": True, "is_cmmsn_agnt": False, "selected_contacts": False, "location_scope": "all",
                  "session_nonce": 0, "language": "en", "created_at": now, "updated_at": now}
                 for n in range(start, start + count)]
        ids = [db.session.execute(insert(User).values(**row).returning(User.id)).scalar() for row in users]
        db.session.execute(insert(AuditEntry), [
            {"business_id": business_id, "actor_id": user_id, "actor_name": "Someone", "credential": "browser",
             "entity_type": "location", "entity_id": user_id, "entity_label": f"Site {user_id}", "action": "updated",
             "before": {"name": "Old"}, "after": {"name": "New"}, "created_at": now} for user_id in ids])
        db.session.commit()


@pytest.mark.parametrize("url", ["/api/v1/audit-log?per_page=100", "/api/v1/audit-log?format=csv",
                                 "/settings/audit-log?per_page=100"])
def test_audit_log(app, acme, owner_token, owner_browser, statements, url):
    if url.startswith("/api/"):
        client = app.test_client()
        fetch = lambda: client.get(url, headers=owner_token)  # noqa: E731
    else:
        fetch = lambda: owner_browser.get(url)  # noqa: E731
    _grow_audit_log(app, acme.business_id, FEW, 0)
    few, few_sql = _statements_for(statements, fetch)
    _grow_audit_log(app, acme.business_id, MANY - FEW, FEW)
    many, many_sql = _statements_for(statements, fetch)
    assert few == many, f"--- few\n{few_sql}\n--- many\n{many_sql}"


def _grow_users(app, acme, globex, count, already):
    """Staff users of Acme, each with a role of its own (so roles are not all one row)."""
    from tests.api.test_roles import add_role
    from tests.api.test_users import add_users

    for n in range(already, count):
        role = add_role(app, acme, f"Role {n:03d}")
        add_users(app, acme, {"first_name": f"User {n:03d}", "email": f"user{n}@acme.example", "role_id": role,
                              "username": f"user{n}", "allow_login": True})
    if not already:
        add_users(app, globex, *({"first_name": f"Elsewhere {n}"} for n in range(MANY)))


@pytest.mark.parametrize("url", ["/api/v1/users?per_page=100", "/api/v1/users?per_page=100&q=user&sort=name&status=1",
                                 "/api/v1/users?format=csv"])
def test_api_users(app, acme, globex, owner_token, statements, url):
    client = app.test_client()
    fetch = lambda: client.get(url, headers=owner_token)  # noqa: E731

    _grow_users(app, acme, globex, FEW, 0)
    few, few_sql = _statements_for(statements, fetch)
    _grow_users(app, acme, globex, MANY, FEW)
    many, many_sql = _statements_for(statements, fetch)
    assert fetch().get_data(as_text=True).count("User ") == MANY
    assert few == many, f"--- few\n{few_sql}\n--- many\n{many_sql}"


@pytest.mark.parametrize("url", ["/team/users?per_page=100", "/team/users?per_page=100&q=user&sort=name"])
def test_users_page(app, acme, globex, owner_browser, statements, url):
    fetch = lambda: owner_browser.get(url)  # noqa: E731
    htmx = lambda: owner_browser.get(url, headers={"HX-Request": "true"})  # noqa: E731

    _grow_users(app, acme, globex, FEW, 0)
    few, few_sql = _statements_for(statements, fetch)
    few_htmx, _ = _statements_for(statements, htmx)
    _grow_users(app, acme, globex, MANY, FEW)
    many, many_sql = _statements_for(statements, fetch)
    many_htmx, _ = _statements_for(statements, htmx)
    assert fetch().get_data(as_text=True).count('data-testid="user-row"') == MANY + ("q=" not in url)
    assert few == many, f"--- few\n{few_sql}\n--- many\n{many_sql}"
    assert few_htmx == many_htmx
