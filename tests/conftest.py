"""Fixtures: one app per run, a clean database per test, two businesses, signed-in
browser clients per role and API clients per credential.

The suite runs on SQLite (a temporary file) unless DATABASE_URL names another database,
e.g. the local PostgreSQL in CI. REDIS_URL, when set, backs the rate limiter.
"""
import os
from dataclasses import dataclass

import pytest
from sqlalchemy import select, text

from app import create_app
from app.config import TestConfig
from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db, limiter


def _config(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("trellis")
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'test.db'}",
        MAIL_DIR=str(tmp / "mail"),
        HUEY_SQLITE_PATH=str(tmp / "huey.db"),
        EXPORT_DIR=str(tmp / "exports"),
        SERVER_NAME=None,
    )
    return config


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(_config(tmp_path_factory))
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _wipe(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = list(reversed(db.metadata.sorted_tables))
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())


@pytest.fixture(autouse=True)
def clean_database(app):
    """Every test starts with empty tables and fresh rate-limit counters."""
    _wipe(app)
    limiter.reset()
    yield
    _wipe(app)


@pytest.fixture
def ctx(app):
    """An app context for tests that call services directly."""
    with app.app_context():
        yield
        db.session.rollback()


@dataclass
class Tenant:
    business_id: int
    owner_id: int
    name: str


def make_business(app, name: str, email: str, password: str = "owner-password") -> Tenant:
    from app.auth.services import sign_up

    with app.app_context():
        owner = sign_up(name, "Owner", name.split()[0], email, password)
        db.session.commit()
        return Tenant(owner.business_id, owner.id, name)


def make_user(app, tenant: Tenant, email: str, permissions=(), role_name: str | None = None,
              password: str = "user-password", **fields) -> int:
    """A login-enabled user with a role holding exactly `permissions`."""
    from app.auth.passwords import hash_password
    from app.team.models import Role, User
    from app.team.services import ensure_permissions

    with app.app_context(), tenant_scope(tenant.business_id):
        role_name = role_name or f"Role {email}"
        stored = f"{role_name}#{tenant.business_id}"
        role = db.session.scalar(select(Role).where(Role.name == stored))
        if role is None:
            role = Role(name=stored, permissions=ensure_permissions(permissions))
            db.session.add(role)
        fields.setdefault("username", email)
        user = User(first_name=fields.pop("first_name", email.split("@")[0].title()), email=email,
                    password_hash=hash_password(password), role=role, **{"status": "active", **fields})
        db.session.add(user)
        db.session.commit()
        return user.id


def make_token(app, user_id: int, abilities=None, name: str = "test") -> str:
    from app.auth import tokens
    from app.team.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.id == user_id).execution_options(all_tenants=True))
        with tenant_scope(user.business_id):
            _, plain = tokens.create_token(actor_for(user), user.id, name, abilities)
            db.session.commit()
            return plain


@pytest.fixture
def acme(app) -> Tenant:
    return make_business(app, "Acme Supplies", "owner@acme.example")


@pytest.fixture
def globex(app) -> Tenant:
    return make_business(app, "Globex Corporation", "owner@globex.example")


class ApiClient:
    """The Flask test client with a credential on every request."""

    def __init__(self, client, headers: dict):
        self.client = client
        self.headers = headers

    def _call(self, method, url, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return getattr(self.client, method)(url, headers=headers, **kwargs)

    def get(self, url, **kw):
        return self._call("get", url, **kw)

    def post(self, url, **kw):
        return self._call("post", url, **kw)

    def put(self, url, **kw):
        return self._call("put", url, **kw)

    def patch(self, url, **kw):
        return self._call("patch", url, **kw)

    def delete(self, url, **kw):
        return self._call("delete", url, **kw)


@pytest.fixture
def api_as(app):
    """api_as(user_id, abilities=None) -> ApiClient authenticated with a fresh token."""

    def build(user_id: int, abilities=None) -> ApiClient:
        token = make_token(app, user_id, abilities)
        return ApiClient(app.test_client(), {"Authorization": f"Bearer {token}"})

    return build


@pytest.fixture
def api(api_as, acme) -> ApiClient:
    """The Acme owner (Admin role) through the API with an all-abilities token."""
    return api_as(acme.owner_id)


def sign_in(client, login: str, password: str):
    return client.post("/login", data={"login": login, "password": password})


@pytest.fixture
def browser_as(app):
    """browser_as(email, password) -> a test client signed in through the login form."""

    def build(email: str, password: str):
        client = app.test_client()
        response = sign_in(client, email, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return build


@pytest.fixture
def owner_browser(browser_as, acme):
    return browser_as("owner@acme.example", "owner-password")


@pytest.fixture
def client(app):
    return app.test_client()
