"""Who sees which sales records (seed 003's ownership, seed 002's selected contacts).

A user with `<kind>.view_all` sees every record of the business; otherwise only the
records they own (are assigned to). A user limited to selected contacts sees only those
contacts and the deals of those contacts, whatever else their role allows.
"""
from sqlalchemy import Select, select

from app.core.errors import NotFound
from app.core.permissions import Actor
from app.extensions import db
from app.pipelines.models import Contact, Deal
from app.team.models import user_contacts


def selected_contact_ids(actor: Actor):
    """A subquery of the contacts the actor is limited to, or None when not limited."""
    user = actor.user
    if not getattr(user, "selected_contacts", False):
        return None
    return select(user_contacts.c.contact_id).where(user_contacts.c.user_id == user.id).scalar_subquery()


def visible(stmt: Select, model, actor: Actor, kind: str) -> Select:
    """`stmt` narrowed to the `model` rows (`kind`: contacts, deals, ...) the actor may see."""
    if not actor.can(f"{kind}.view_all"):
        stmt = stmt.where(model.owner_id == actor.user.id)
    limited_to = selected_contact_ids(actor)
    if limited_to is not None:
        if model is Contact:
            stmt = stmt.where(Contact.id.in_(limited_to))
        elif model is Deal:
            stmt = stmt.where(Deal.contact_id.in_(limited_to))
    return stmt


def find_visible(model, record_id: int, actor: Actor, kind: str, options=()):
    """One record by id through the same rule; a record the actor may not see is a 404."""
    stmt = visible(select(model).where(model.id == record_id), model, actor, kind).options(*options)
    record = db.session.scalar(stmt)
    if record is None:
        raise NotFound()
    return record
