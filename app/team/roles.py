"""Role rules and writes (seed 002: List/Get/Create/Update/Delete role).

A role's name is stored as `Name#<business_id>`; the display name is the part before the
suffix. The built-in roles (is_default) are locked, except this business's Cashier, whose
permissions may change. The API and the HTML screens call these, never the model.

Nobody puts a permission they do not hold into a role, adds permissions to the role they
hold, or changes or deletes a role holding permissions they lack (403, app.team.escalation).
"""
from sqlalchemy import func, select, update
from sqlalchemy.orm import undefer

from app.core.errors import Forbidden, NotFound, ValidationFailed
from app.core.events import record_event
from app.core.listing import ListParams, ListSpec, fetch_page, iter_rows
from app.core.permissions import Actor, require
from app.extensions import db
from app.team.escalation import acts_as_owner, beyond_reach, ensure_within_reach, role_grants
from app.team.models import CASHIER_ROLE, Role, User
from app.team.services import ensure_permissions, stored_role_name

NAME_MAX_LENGTH = 150  # the stored name (plus "#<business_id>") must fit String(191)
PERMISSION_MAX_LENGTH = 191
PERMISSION_SOURCES = ("permissions", "spg_permissions", "radio_options")
DEMO_MESSAGE = "Roles cannot be changed while the business is in demo mode."
OWN_ROLE_MESSAGE = "You cannot add permissions to the role you hold."
DEFAULT_EDIT_MESSAGE = "Default roles cannot be edited."
DEFAULT_DELETE_MESSAGE = "Default roles cannot be deleted."
CASHIER_RENAME_MESSAGE = "The built-in Cashier role cannot be renamed."

ROLE_LIST = ListSpec(
    name="Role",
    sorts={"name": Role.name, "created_at": Role.created_at, "users_count": Role.users_count},
    default_sort="name",
    search=(Role.name,),
)


def _roles():
    return select(Role).options(undefer(Role.users_count))


def list_roles(actor: Actor, params: ListParams):
    require(actor, "roles.view")
    return fetch_page(_roles(), ROLE_LIST, params)


def all_roles(actor: Actor, params: ListParams):
    require(actor, "roles.view")
    return iter_rows(_roles(), ROLE_LIST, params)


def get_role(actor: Actor, role_id: int) -> Role:
    require(actor, "roles.view")
    return _find(role_id)


def _find(role_id: int) -> Role:
    # Tenancy scopes the select: another business's role is not found, like a missing one.
    role = db.session.scalar(_roles().where(Role.id == role_id))
    if role is None:
        raise NotFound()
    return role


def is_business_cashier(role: Role) -> bool:
    return role.is_default and role.name == stored_role_name(CASHIER_ROLE, role.business_id)


def _refuse_in_demo(actor: Actor) -> None:
    business = getattr(actor.user, "business", None)
    if business is not None and business.demo_mode:
        raise Forbidden(DEMO_MESSAGE)


def _clean_name(data: dict, role: Role | None, business_id: int) -> str | None:
    """The stored name for `data["name"]`, or None when the name is not being set."""
    if "name" not in data and role is not None:
        return None
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationFailed({"name": ["The name field is required."]})
    if "#" in name:
        raise ValidationFailed({"name": ["The name may not contain the # character."]})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationFailed({"name": [f"The name may not be greater than {NAME_MAX_LENGTH} characters."]})
    stored = stored_role_name(name, business_id)
    if role is not None and is_business_cashier(role) and stored != role.name:
        raise ValidationFailed({"name": [CASHIER_RENAME_MESSAGE]})
    # lower() on both sides: SQLite folds only ASCII, Python folds everything.
    taken = select(func.count()).select_from(Role).where(func.lower(Role.name) == func.lower(stored))
    if role is not None:
        taken = taken.where(Role.id != role.id)
    if db.session.scalar(taken):
        raise ValidationFailed({"name": ["The name has already been taken."]})
    return stored


def merged_permission_names(data: dict) -> list[str]:
    """`permissions`, `spg_permissions` and `radio_options` as one sorted, unique list."""
    names: set[str] = set()
    for source in PERMISSION_SOURCES:
        for name in data.get(source) or []:
            name = name.strip()
            if not name:
                raise ValidationFailed({source: ["Permission names may not be blank."]})
            if len(name) > PERMISSION_MAX_LENGTH:
                raise ValidationFailed(
                    {source: [f"Permission names may not be greater than {PERMISSION_MAX_LENGTH} characters."]})
            names.add(name)
    return sorted(names)


def _sends_permissions(data: dict) -> bool:
    return any(source in data for source in PERMISSION_SOURCES)


def _payload(role: Role) -> dict:
    return {"id": role.id, "name": role.name_key, "permissions": role.permission_names}


def create_role(actor: Actor, data: dict) -> Role:
    require(actor, "roles.create")
    _refuse_in_demo(actor)
    stored = _clean_name(data, None, actor.business_id)
    names = merged_permission_names(data)
    ensure_within_reach(actor, names, "put into a role")
    role = Role(
        name=stored, business_id=actor.business_id, is_default=False,
        is_service_staff=bool(data.get("is_service_staff")),
        permissions=ensure_permissions(names),
    )
    db.session.add(role)
    db.session.flush()
    record_event("role.created", _payload(role))
    return _reloaded(role)


def update_role(actor: Actor, role_id: int, data: dict) -> Role:
    """PUT sends every field; PATCH only those to change (permissions change when any of
    the three permission lists is sent, and become their merge)."""
    require(actor, "roles.update")
    _refuse_in_demo(actor)
    role = _find(role_id)
    if role.is_default and not is_business_cashier(role):
        raise ValidationFailed(message=DEFAULT_EDIT_MESSAGE)
    _ensure_role_within_reach(actor, role)
    names = merged_permission_names(data) if _sends_permissions(data) else None
    if names is not None:
        ensure_within_reach(actor, names, "put into a role")
        if role.id == actor.user.role_id and set(names) - set(role.permission_names) and not acts_as_owner(actor):
            raise Forbidden(OWN_ROLE_MESSAGE)
    stored = _clean_name(data, role, actor.business_id)
    if stored is not None:
        role.name = stored
    if "is_service_staff" in data:
        role.is_service_staff = bool(data["is_service_staff"])
    if names is not None:
        role.permissions = ensure_permissions(names)
    db.session.flush()
    record_event("role.updated", _payload(role))
    return _reloaded(role)


def delete_role(actor: Actor, role_id: int) -> int:
    require(actor, "roles.delete")
    _refuse_in_demo(actor)
    role = _find(role_id)
    if role.is_default and not is_business_cashier(role):
        raise ValidationFailed(message=DEFAULT_DELETE_MESSAGE)
    _ensure_role_within_reach(actor, role)
    if role.users_count:
        count = role.users_count
        raise ValidationFailed(message=f"This role is assigned to {count} user{'s' if count != 1 else ''}."
                                       " Give them another role before deleting it.")
    # Deleted (soft) users may still name the role: let go of it, as the foreign key would.
    db.session.execute(update(User).where(User.role_id == role.id).values(role_id=None))
    db.session.delete(role)
    db.session.flush()
    record_event("role.deleted", {"id": role_id})
    return role_id


def _ensure_role_within_reach(actor: Actor, role: Role) -> None:
    """A role holding permissions the actor lacks is not theirs to change or delete."""
    beyond = beyond_reach(actor, role_grants(role))
    if beyond:
        raise Forbidden(f"You cannot change the role \u201c{role.display_name}\u201d: it holds permissions"
                        f" you do not hold: {', '.join(beyond)}.")


def _reloaded(role: Role) -> Role:
    """The role with its users_count and updated_at read back after the write."""
    db.session.expire(role, ["users_count", "updated_at"])
    return role
