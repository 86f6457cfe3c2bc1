"""Nobody grants, reaches or acts with more than they hold (DESIGN §3.6).

Every write that hands out power calls these: assigning a role, putting permissions
into a role, widening location or contact access, issuing or revoking a credential for
someone, mailing a password-reset link. An actor may:

- grant only permissions they hold themselves (what their role allows, narrowed by the
  credential's abilities; the Admin role, which holds everything, only with full ability);
- act on a user (change, deactivate, delete, reset, manage tokens) only when that user
  holds nothing the actor lacks: no permission, no location, no contact. Otherwise an
  e-mail change plus "forgot password" would hand them the other account;
- never touch the business owner's account, which only the owner changes.

The owner is the one exception: acting with full ability, they may grant anything.
Refusals are 403 with a message that names what is out of reach.
"""
from sqlalchemy import func, select

from app.core.errors import Forbidden
from app.core.permissions import ALL_ABILITIES, TOKENS_MANAGE, Actor, all_permission_names
from app.extensions import db
from app.team.models import Role, User

OWNER_MESSAGE = "Only the business owner can change the owner's account."


def business_owner_id(business_id: int) -> int | None:
    """The owner is the user sign-up created: the business's first staff user. Nobody else
    may delete or demote them (see ensure_can_act_on), so this never moves."""
    stmt = (select(func.min(User.id))
            .where(User.business_id == business_id, User.is_cmmsn_agnt.is_(False))
            .execution_options(all_tenants=True))
    return db.session.scalar(stmt)


def is_owner(user) -> bool:
    return user is not None and user.id == business_owner_id(user.business_id)


def has_full_ability(actor: Actor) -> bool:
    """A browser session, or a token allowed everything its role allows."""
    return actor.abilities is None or ALL_ABILITIES in actor.abilities


def acts_as_owner(actor: Actor) -> bool:
    return has_full_ability(actor) and is_owner(actor.user)


def holds(actor: Actor, name: str) -> bool:
    """Whether the actor may do `name` right now. "*" (the Admin role's everything) needs
    the Admin role *and* full ability: a role that merely lists "*" as a name holds nothing."""
    if name == ALL_ABILITIES:
        return actor.is_admin and has_full_ability(actor)
    return actor.can(name)


def role_grants(role: Role | None) -> frozenset[str]:
    """What a role lets its holder do: the Admin role holds everything, present and future."""
    if role is None:
        return frozenset()
    if role.is_admin:
        return frozenset(all_permission_names()) | {ALL_ABILITIES}
    return frozenset(role.permission_names) - {ALL_ABILITIES}  # a "*" listed as a name grants nothing


def beyond_reach(actor: Actor, names) -> list[str]:
    """The names among `names` the actor does not hold (none for the owner)."""
    if acts_as_owner(actor):
        return []
    return sorted(name for name in set(names) if not holds(actor, name))


def _describe(names: list[str]) -> str:
    return "all permissions (the Admin role)" if ALL_ABILITIES in names else ", ".join(names)


def ensure_within_reach(actor: Actor, names, what: str = "grant") -> None:
    """Refuse (403) to grant any permission the actor does not hold."""
    beyond = beyond_reach(actor, names)
    if beyond:
        raise Forbidden(f"You cannot {what} permissions you do not hold: {_describe(beyond)}.")


def ensure_role_within_reach(actor: Actor, role: Role | None) -> None:
    beyond = beyond_reach(actor, role_grants(role))
    if beyond:
        raise Forbidden(f"You cannot assign the role \u201c{role.display_name}\u201d: it holds permissions"
                        f" you do not hold: {_describe(beyond)}.")


def ensure_access_within_reach(actor: Actor, scope: str, locations, limited_to_contacts: bool, contacts) -> None:
    """Location and contact access the actor could give: no wider than their own."""
    if acts_as_owner(actor):
        return
    mine = actor.user
    if mine.location_scope == "locations":
        own = {location.id for location in mine.locations}
        if scope != "locations" or not {location.id for location in locations} <= own:
            raise Forbidden("You cannot give access to locations you cannot reach yourself.")
    if mine.selected_contacts:
        own = {contact.id for contact in mine.contacts}
        if not limited_to_contacts or not {contact.id for contact in contacts or []} <= own:
            raise Forbidden("You cannot give access to contacts you cannot reach yourself.")


def ensure_can_act_on(actor: Actor, user: User) -> None:
    """Refuse (403) to change, reset, deactivate, delete or issue tokens for a user who
    holds anything the actor lacks, and anyone but the owner to touch the owner."""
    if user.id == actor.user.id and has_full_ability(actor):
        return  # yourself, in full: changing your own account reaches nothing new
    if is_owner(user) and not acts_as_owner(actor):
        raise Forbidden(OWNER_MESSAGE)
    beyond = beyond_reach(actor, role_grants(user.role))
    if beyond:
        raise Forbidden(f"You cannot change {user.full_name}: they hold permissions you do not hold:"
                        f" {_describe(beyond)}.")
    ensure_access_within_reach(actor, user.location_scope, user.locations, user.selected_contacts, user.contacts)


def ensure_can_manage_tokens(actor: Actor) -> None:
    """Listing, creating and revoking tokens needs a full-ability credential or tokens.manage:
    a token limited to contacts.view must not see or revoke its siblings."""
    if not (has_full_ability(actor) or TOKENS_MANAGE in actor.abilities):
        raise Forbidden(f"Managing tokens needs a full-ability token or the {TOKENS_MANAGE} ability.")
