"""Service-level fixtures for the sales pipelines: an actor inside the business's scope."""
import pytest
from sqlalchemy import select

from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.team.models import User


@pytest.fixture
def owner_actor(app, acme):
    """The Acme owner (Admin) as an Actor, inside Acme's tenant scope and an app context."""
    with app.app_context(), tenant_scope(acme.business_id):
        user = db.session.scalar(select(User).where(User.id == acme.owner_id))
        yield actor_for(user)
        db.session.rollback()
