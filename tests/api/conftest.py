"""Helpers for the JSON API tests: rows made directly, tokens issued through the API."""
import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db

OWNER_PASSWORD = "owner-password"  # what tests/conftest.py's make_business uses


def add_locations(app, tenant, *rows: dict) -> list[int]:
    """Insert locations for `tenant` straight into the database; returns their ids."""
    from app.locations.models import Location

    with app.app_context(), tenant_scope(tenant.business_id):
        locations = [Location(**row) for row in rows]
        db.session.add_all(locations)
        db.session.commit()
        return [location.id for location in locations]


def location_row(app, location_id: int):
    """The location row as stored, from any business (None when it is gone)."""
    from app.locations.models import Location

    with app.app_context():
        stmt = select(Location).where(Location.id == location_id).execution_options(all_tenants=True)
        row = db.session.scalar(stmt)
        if row is not None:
            db.session.expunge(row)
        return row


def token_row(app, token_id: int):
    from app.auth.models import AccessToken

    with app.app_context():
        stmt = select(AccessToken).where(AccessToken.id == token_id).execution_options(all_tenants=True)
        row = db.session.scalar(stmt)
        if row is not None:
            db.session.expunge(row)
        return row


@pytest.fixture
def client(app):
    """A bare test client: no credential."""
    return app.test_client()


@pytest.fixture
def bearer():
    """bearer(token) -> the Authorization header for it."""
    return lambda token: {"Authorization": f"Bearer {token}"}
