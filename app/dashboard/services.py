"""The numbers an owner checks each morning, from what exists today."""
from datetime import timedelta

from sqlalchemy import func, select

from app.auth.models import AccessToken
from app.core.models import utcnow
from app.core.permissions import Actor
from app.extensions import db
from app.locations.models import Location
from app.team.models import User


def dashboard_numbers(actor: Actor) -> dict:
    week_ago = utcnow() - timedelta(days=7)
    staff = select(func.count()).select_from(User).where(User.deleted_at.is_(None), User.is_cmmsn_agnt.is_(False))
    return {
        "users": db.session.scalar(staff),
        "active_users": db.session.scalar(staff.where(User.status == "active")),
        "signed_in_this_week": db.session.scalar(staff.where(User.last_login_at >= week_ago)),
        "locations": db.session.scalar(select(func.count()).select_from(Location)),
        "active_locations": db.session.scalar(
            select(func.count()).select_from(Location).where(Location.is_active.is_(True))
        ),
        "api_tokens": db.session.scalar(
            select(func.count()).select_from(AccessToken).where(AccessToken.revoked_at.is_(None))
        ),
        "open_deals": _open_deals(actor),
        "can_see_locations": actor.can("locations.view"),
        "can_see_users": actor.can_any("user.view", "user.create"),
    }


def _open_deals(actor: Actor):
    """(count, value) of the open deals the user sees, None without access to deals."""
    from app.pipelines.deals import open_pipeline_value

    return open_pipeline_value(actor)
