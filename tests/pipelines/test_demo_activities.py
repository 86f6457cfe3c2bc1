"""demo-data adds activities to the CRM records that exist, once."""
from sqlalchemy import func, select

from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.demo import _activities
from app.extensions import db
from app.pipelines.models import Activity
from app.team.models import User
from tests.pipelines.activity_rows import records


def test_demo_activities_are_added_once(app, acme):
    crm = records(app, acme, owner_id=acme.owner_id)
    with app.app_context(), tenant_scope(acme.business_id):
        actor = actor_for(db.session.get(User, acme.owner_id))
        _activities(actor)
        db.session.commit()
        first = db.session.scalar(select(func.count()).select_from(Activity))
        _activities(actor)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Activity)) == first > 0
        kinds = set(db.session.scalars(select(Activity.activityable_type)))
        assert kinds == {"contact", "account", "lead", "deal"}
        overdue = db.session.scalars(select(Activity).where(Activity.completed.is_(False),
                                                            Activity.due_at.is_not(None))).all()
        assert any(a.activityable_id == crm["contact"] for a in overdue)
