"""Staff users: rules and writes (seed 002: List/Get/Create/Update/Delete user).

Staff users are the people of a business who may sign in (commission agents share the
table and are left out of everything here). The API and the HTML screens call these,
never the model. Rules that decide an answer's status:

- 403: the permission (`user.view`/`create`/`update`/`delete`, and `user.assign_role`
  to change a role, `user.access` to change location or contact access,
  `user.reset_password` to mail a reset link), demo mode for writes, and anything
  beyond the actor's reach (app.team.escalation): a role or access they do not hold
  themselves, a user who holds more than they do, the owner's account, or another
  user's password (nobody sets it: they are sent a reset link);
- 402: the business enforces a subscription and has none (create and update);
- 422: a field, the user quota (create; update only when `allow_login` is sent truthy),
  deleting yourself, taking the Admin role from the last admin, locations or contacts of
  another business.
"""
import re
import unicodedata

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from app.auth.passwords import hash_password
from app.core.converters import MAX_ROW_ID
from app.core.errors import Forbidden, NotFound, PaymentRequired, QuotaExceeded, ValidationFailed
from app.core.events import record_event
from app.core.listing import Filter, ListParams, ListSpec, fetch_page, iter_rows
from app.core.models import utcnow
from app.core.permissions import Actor, require
from app.extensions import db
from app.locations.models import Location
from app.pipelines.models import Contact
from app.team import permissions as _permissions  # noqa: F401  (registers user.*)
from app.team.escalation import (
    beyond_reach,
    ensure_access_within_reach,
    ensure_can_act_on,
    ensure_role_within_reach,
    role_grants,
)
from app.team.models import ADMIN_ROLE, Role, User

STATUSES = ("active", "inactive")
LOCATION_SCOPES = ("all", "locations")
MIN_PASSWORD_LENGTH = 6  # seed 002 (sign-up asks for more; staff passwords follow the seed)
MAX_PASSWORD_LENGTH = 255
MAX_IDS = 1000
TEXT_FIELDS = ("surname", "first_name", "last_name", "email", "contact_number")
MAX_LENGTHS = {"surname": 30, "first_name": 120, "last_name": 120, "email": 191, "contact_number": 40,
               "username": 120}
USERNAME_PATTERN = re.compile(r"[\w.@+-]+")

DEMO_MESSAGE = "Users cannot be changed while the business is in demo mode."
SELF_DELETE_MESSAGE = "Cannot delete your own user account"
SELF_DEACTIVATE_MESSAGE = "You cannot deactivate your own user account."
# The web app's words (lang_v1.cannot_change_role); seed 002 answers the API with the same.
LAST_ADMIN_ROLE_MESSAGE = "Can not change role"
LAST_ADMIN_ROLE_DETAIL = "This is the only admin of the business; make another user an admin first."
LAST_ADMIN_MESSAGE = "This is the only admin of the business who can sign in; make another user an admin first."
LOCATION_IDS_INVALID = "The selected location access.location ids are invalid."
CONTACT_IDS_INVALID = "The selected contact ids are invalid."
OTHERS_PASSWORD_MESSAGE = "You cannot set another user's password. Send them a link to reset it instead."
ASSIGN_ROLE_MESSAGE = "Changing a user's role needs the user.assign_role permission."
ACCESS_MESSAGE = "Changing a user's location or contact access needs the user.access permission."
CANNOT_SIGN_IN_MESSAGE = "This user cannot sign in, so there is no password to reset."
NO_EMAIL_MESSAGE = "This user has no e-mail address to send a reset link to."

_FULL_NAME = func.trim(func.coalesce(User.surname, "") + " " + User.first_name + " "
                       + func.coalesce(User.last_name, ""))
_SORT_NAME = User.first_name + " " + func.coalesce(User.last_name, "")

USER_LIST = ListSpec(
    name="User",
    sorts={"name": _SORT_NAME, "username": User.username, "email": User.email, "status": User.status,
           "created_at": User.created_at},
    default_sort="created_at",
    default_direction="desc",
    search=(_FULL_NAME, User.email, User.username, User.contact_number),
    filters={
        "role_id": Filter(User.role_id, kind="int", description="A role id of the business."),
        "status": Filter(User.status, choices=STATUSES, aliases={"1": "active", "0": "inactive"},
                         description="active (or 1), inactive (or 0)."),
    },
)


def _staff() -> Select:
    return select(User).where(User.is_cmmsn_agnt.is_(False), User.deleted_at.is_(None))


# --- reads ---------------------------------------------------------------------------

def list_users(actor: Actor, params: ListParams):
    require(actor, "user.view", "user.create")
    return fetch_page(_staff(), USER_LIST, params)


def all_users(actor: Actor, params: ListParams):
    require(actor, "user.view", "user.create")
    return iter_rows(_staff(), USER_LIST, params)


def get_user(actor: Actor, user_id: int) -> User:
    require(actor, "user.view")
    return _find(user_id)


def user_for_edit(actor: Actor, user_id: int) -> User:
    """The user, for someone who may change it (the edit screen)."""
    require(actor, "user.update")
    return _find(user_id)


def _find(user_id: int) -> User:
    # Tenancy scopes the select: another business's user is not found, like a missing one.
    stmt = _staff().where(User.id == user_id).options(selectinload(User.locations), selectinload(User.contacts))
    user = db.session.scalar(stmt)
    if user is None:
        raise NotFound()
    return user


def business_roles() -> list[Role]:
    """The roles a user can be given, for the form's select."""
    return list(db.session.scalars(select(Role).order_by(Role.is_default.desc(), Role.name)))


def assignable_roles(actor: Actor, current: Role | None = None) -> list[Role]:
    """The roles the actor may give (holding nothing they lack), and the user's current one."""
    return [role for role in business_roles()
            if role == current or not beyond_reach(actor, role_grants(role))]


def business_locations() -> list[Location]:
    return list(db.session.scalars(select(Location).order_by(Location.name, Location.id)))


def location_ids(user: User) -> list[int] | None:
    """The user's permitted locations, None when every location is permitted."""
    if user.location_scope != "locations":
        return None
    return sorted(location.id for location in user.locations)


def contact_access(user: User) -> list[dict]:
    """The contacts a user limited to selected contacts may see (empty when not limited)."""
    if not user.selected_contacts:
        return []
    return [{"id": contact.id, "name": contact.name} for contact in user.contacts]


def contacts_by_ids(ids: list[int]) -> list:
    """Contacts of the business by id, in name order (the picker's chosen ones)."""
    from app.pipelines.models import Contact

    if not ids:
        return []
    stmt = select(Contact).where(Contact.id.in_(ids)).order_by(Contact.first_name, Contact.last_name, Contact.id)
    return list(db.session.scalars(stmt))


def contact_options(actor: Actor, q: str, limit: int = 20) -> list:
    """Contacts matching `q` (full-text) for the contact-access picker of the user form."""
    from app.pipelines.models import Contact
    from app.pipelines.search import search_for

    require(actor, "user.create", "user.update")
    q = (q or "").strip()
    if len(q) < 2:
        return []
    stmt = search_for("contacts")(select(Contact), q)
    return list(db.session.scalars(stmt.order_by(Contact.first_name, Contact.last_name, Contact.id).limit(limit)))


# --- write guards --------------------------------------------------------------------

def _refuse_in_demo(actor: Actor) -> None:
    if actor.user.business.demo_mode:
        raise Forbidden(DEMO_MESSAGE)


def _require_subscription(actor: Actor) -> None:
    business = actor.user.business
    if business.enforce_subscription and not business.is_subscribed:
        raise PaymentRequired("This business has no active subscription. Subscribe to add or change users.")


def _check_quota(actor: Actor, user: User | None = None) -> None:
    """Room for one more staff user (the user being changed does not count against itself)."""
    quota = actor.user.business.user_quota
    if quota is None:
        return
    taken = select(func.count()).select_from(User).where(User.is_cmmsn_agnt.is_(False), User.deleted_at.is_(None))
    if user is not None:
        taken = taken.where(User.id != user.id)
    if db.session.scalar(taken) >= quota:
        raise QuotaExceeded(f"The user quota of this business ({quota} user{'s' if quota != 1 else ''}) is used up."
                            " Upgrade the plan or delete a user first.")


def _is_admin_role(role: Role | None) -> bool:
    return role is not None and role.is_admin


def _other_admins_who_can_sign_in(user: User) -> int:
    stmt = (
        select(func.count()).select_from(User).join(Role, User.role_id == Role.id)
        .where(Role.is_default.is_(True), Role.name == f"{ADMIN_ROLE}#{user.business_id}")
        .where(User.id != user.id, User.deleted_at.is_(None), User.is_cmmsn_agnt.is_(False),
               User.status == "active", User.allow_login.is_(True))
    )
    return db.session.scalar(stmt)


def _is_last_admin(user: User) -> bool:
    return _is_admin_role(user.role) and _other_admins_who_can_sign_in(user) == 0


# --- cleaning ------------------------------------------------------------------------

class _Errors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def _text_values(data: dict, user: User | None, errors: _Errors) -> dict:
    values = {}
    for key in TEXT_FIELDS:
        if key not in data:
            continue
        value = data[key]
        if value is not None and not isinstance(value, str):
            errors.add(key, f"The {key.replace('_', ' ')} must be a string.")
            continue
        value = (value or "").strip() or None
        if value and len(value) > MAX_LENGTHS[key]:
            errors.add(key, f"The {key.replace('_', ' ')} may not be greater than {MAX_LENGTHS[key]} characters.")
            continue
        values[key] = value
    if (user is None or "first_name" in data) and not values.get("first_name") and "first_name" not in errors:
        errors.add("first_name", "The first name field is required.")
    if values.get("email"):
        try:
            values["email"] = validate_email(values["email"], check_deliverability=False).normalized
        except EmailNotValidError:
            errors.add("email", "The email must be a valid email address.")
    return values


def _role(data: dict, errors: _Errors) -> Role | None:
    role_id = data.get("role")
    if role_id is None or role_id == "":
        errors.add("role", "The role field is required.")
        return None
    if isinstance(role_id, str) and role_id.strip().isdecimal():
        role_id = int(role_id)
    if isinstance(role_id, bool) or not isinstance(role_id, int) or not 1 <= role_id <= MAX_ROW_ID:
        errors.add("role", "The selected role is invalid.")
        return None
    role = db.session.scalar(select(Role).where(Role.id == role_id))  # tenancy: only this business's roles
    if role is None:
        errors.add("role", "The selected role is invalid.")
    return role


def _ids(value, field: str, errors: _Errors) -> list[int] | None:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        errors.add(field, f"The {field.replace('_', ' ')} must be an array of ids.")
        return None
    if len(value) > MAX_IDS:
        errors.add(field, f"The {field.replace('_', ' ')} may not have more than {MAX_IDS} items.")
        return None
    return sorted(set(value))


def _locations(data: dict, errors: _Errors) -> tuple[str, list[Location]] | None:
    access = data.get("location_access")
    if not isinstance(access, dict) or not access.get("scope"):
        errors.add("location_access.scope", "The location access.scope field is required.")
        return None
    scope = access["scope"]
    if scope not in LOCATION_SCOPES:
        errors.add("location_access.scope", "The selected location access.scope is invalid.")
        return None
    if scope == "all":
        return scope, []
    field = "location_access.location_ids"
    ids = _ids(access.get("location_ids"), field, errors)
    if ids is None:
        return None
    if not ids:
        errors.add(field, "The location access.location ids field is required when location access.scope is locations.")
        return None
    found = [] if any(not 1 <= i <= MAX_ROW_ID for i in ids) else list(
        db.session.scalars(select(Location).where(Location.id.in_(ids))))  # tenancy: this business's only
    if len(found) != len(ids):
        errors.add(field, LOCATION_IDS_INVALID)
        return None
    return scope, found


def _password(value, errors: _Errors) -> str | None:
    """A new password to set, None when none was given."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.add("password", "The password must be a string.")
    elif len(value) < MIN_PASSWORD_LENGTH:
        errors.add("password", f"The password must be at least {MIN_PASSWORD_LENGTH} characters.")
    elif len(value) > MAX_PASSWORD_LENGTH:
        errors.add("password", f"The password may not be greater than {MAX_PASSWORD_LENGTH} characters.")
    else:
        return value
    return None


def _username(value, user: User | None, errors: _Errors) -> str | None:
    """A chosen username, None when left blank (one is generated)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        errors.add("username", "The username must be a string.")
        return None
    value = value.strip()
    if len(value) > MAX_LENGTHS["username"]:
        errors.add("username", f"The username may not be greater than {MAX_LENGTHS['username']} characters.")
    elif not USERNAME_PATTERN.fullmatch(value):
        errors.add("username", "The username may only contain letters, numbers, dots, dashes, underscores and @.")
    elif _login_name_taken(value, user):
        errors.add("username", "The username has already been taken.")
    else:
        return value
    return None


def _login_name_taken(name: str, user: User | None) -> bool:
    """Sign-in takes a username or an e-mail, across every business: neither may be shared.
    Deleted users keep their usernames (the column is unique), so they count too."""
    lowered = name.lower()
    stmt = (
        select(func.count()).select_from(User)
        .where(or_(func.lower(User.username) == lowered,
                   and_(func.lower(User.email) == lowered, User.allow_login.is_(True), User.deleted_at.is_(None))))
        .execution_options(all_tenants=True)
    )
    if user is not None:
        stmt = stmt.where(User.id != user.id)
    return bool(db.session.scalar(stmt))


def _login_email_taken(email: str, user: User | None) -> bool:
    lowered = email.lower()
    stmt = (
        select(func.count()).select_from(User)
        .where(User.deleted_at.is_(None),
               or_(and_(func.lower(User.email) == lowered, User.allow_login.is_(True)),
                   func.lower(User.username) == lowered))
        .execution_options(all_tenants=True)
    )
    if user is not None:
        stmt = stmt.where(User.id != user.id)
    return bool(db.session.scalar(stmt))


def generate_username(first_name: str, last_name: str | None) -> str:
    """jane.doe, then jane.doe2, jane.doe3, ... (unique across every business)."""
    words = " ".join(p for p in (first_name, last_name) if p)
    ascii_words = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode().lower()
    base = ".".join(re.findall(r"[a-z0-9]+", ascii_words))[:100] or "user"
    stmt = (select(func.lower(User.username))
            .where(func.lower(User.username).like(f"{base}%")).execution_options(all_tenants=True))
    taken = set(db.session.scalars(stmt))
    # Nor may it be someone's sign-in e-mail (impossible without an @, but cheap to be sure).
    candidate, number = base, 1
    while candidate in taken or _login_name_taken(candidate, None):
        number += 1
        candidate = f"{base}{number}"
    return candidate


def _flag(data: dict, key: str, errors: _Errors) -> bool | None:
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if not isinstance(value, bool):
        errors.add(key, f"The {key.replace('_', ' ')} field must be true or false.")
        return None
    return value


# --- contacts (selected contact access) ----------------------------------------------

def _contacts(data: dict, errors: _Errors) -> list[Contact] | None:
    """The contacts named by `selected_contact_ids`, None when it was not sent."""
    if "selected_contact_ids" not in data:
        return None
    ids = _ids(data.get("selected_contact_ids"), "selected_contact_ids", errors)
    if not ids:
        return None if ids is None else []
    found = [] if any(not 1 <= i <= MAX_ROW_ID for i in ids) else list(
        db.session.scalars(select(Contact).where(Contact.id.in_(ids))))  # tenancy: this business's only
    if len(found) != len(ids):
        errors.add("selected_contact_ids", CONTACT_IDS_INVALID)
        return None
    return found


# --- writes --------------------------------------------------------------------------

def _event(name: str, user: User) -> None:
    record_event(name, {"id": user.id, "name": user.full_name})


def _sign_out_everywhere(user: User) -> None:
    from app.auth.sessions import end_all_sessions

    end_all_sessions(user)  # when it is you, this browser stays signed in (app.auth.sessions)


def create_user(actor: Actor, data: dict) -> User:
    require(actor, "user.create")
    _refuse_in_demo(actor)
    _require_subscription(actor)
    _check_quota(actor)
    errors = _Errors()
    values = _text_values(data, None, errors)
    role = _role(data, errors)
    locations = _locations(data, errors)
    allow_login = bool(_flag(data, "allow_login", errors))
    is_active = _flag(data, "is_active", errors)
    selected_contacts = bool(_flag(data, "selected_contacts", errors))
    contacts = _contacts(data, errors)
    username = password = None
    if allow_login:
        password = _password(data.get("password"), errors)
        if password is None and "password" not in errors:
            errors.add("password", "The password field is required when allow login is true.")
        username = _username(data.get("username"), None, errors)
        if values.get("email") and "email" not in errors and _login_email_taken(values["email"], None):
            errors.add("email", "The email has already been taken.")
    if errors:
        raise ValidationFailed(errors)
    # user.create includes choosing the new user's role and access, within the actor's reach.
    ensure_role_within_reach(actor, role)
    ensure_access_within_reach(actor, locations[0], locations[1], selected_contacts, contacts)
    user = User(
        **{key: values.get(key) for key in TEXT_FIELDS}, language="en", role=role, allow_login=allow_login,
        status="inactive" if is_active is False else "active", is_cmmsn_agnt=False, selected_contacts=selected_contacts,
        location_scope=locations[0], locations=locations[1],
        username=(username or generate_username(values["first_name"], values.get("last_name"))) if allow_login else None,
        password_hash=hash_password(password) if password else None,
    )
    user.contacts = (contacts or []) if selected_contacts else []
    db.session.add(user)
    db.session.flush()
    _event("user.created", user)
    return user


def update_user(actor: Actor, user_id: int, data: dict) -> User:
    """PUT and PATCH alike (seed 002): `role` and `location_access` are required and
    replaced; the other fields change when sent and keep their values when left out."""
    require(actor, "user.update")
    _refuse_in_demo(actor)
    _require_subscription(actor)
    user = _find(user_id)
    ensure_can_act_on(actor, user)
    errors = _Errors()
    allow_login = _flag(data, "allow_login", errors)
    if allow_login:
        _check_quota(actor, user)
    values = _text_values(data, user, errors)
    role = _role(data, errors)
    locations = _locations(data, errors)
    is_active = _flag(data, "is_active", errors)
    selected_contacts = _flag(data, "selected_contacts", errors)
    contacts = _contacts(data, errors)
    will_sign_in = user.allow_login if allow_login is None else allow_login
    username = password = None
    if will_sign_in:
        password = _password(data.get("password"), errors)
        # Only for your own account: a colleague never chooses someone's password (they switch
        # sign-in on, then send a reset link), so a password is not theirs to give.
        if password is None and not user.password_hash and "password" not in errors and user.id == actor.user.id:
            errors.add("password", "The password field is required when allow login is true.")
        username = _username(data.get("username"), user, errors)
        email = values.get("email", user.email) if "email" not in errors else None
        if email and (not user.allow_login or "email" in values) and _login_email_taken(email, user):
            errors.add("email", "The email has already been taken.")
    if errors:
        raise ValidationFailed(errors)
    _guard_grants(actor, user, role, locations, selected_contacts, contacts, password)
    _guard_last_admin(actor, user, role, will_sign_in, is_active)
    if is_active is False and user.id == actor.user.id:
        raise ValidationFailed({"is_active": [SELF_DEACTIVATE_MESSAGE]})

    for key, value in values.items():
        setattr(user, key, value)
    if user.role is not role:
        _sign_out_everywhere(user)  # a new role starts from a fresh sign-in everywhere
    user.role = role
    user.location_scope, user.locations = locations
    if is_active is not None:
        user.status = "active" if is_active else "inactive"
    if selected_contacts is not None:
        user.selected_contacts = selected_contacts
    if not user.selected_contacts:
        user.contacts = []
    elif contacts is not None:  # sent: replaces the list (an empty one clears it)
        user.contacts = contacts
    if will_sign_in:
        _set_login(actor, user, username, password)
    elif user.allow_login or user.username or user.password_hash:
        user.allow_login, user.username, user.password_hash = False, None, None
        _sign_out_everywhere(user)
    db.session.flush()
    _event("user.updated", user)
    return user


def _guard_grants(actor: Actor, user: User, role: Role, locations, selected_contacts, contacts, password) -> None:
    """What an update hands out: each kind needs its permission and stays within reach."""
    if role.id != user.role_id:
        if not actor.can("user.assign_role"):
            raise Forbidden(ASSIGN_ROLE_MESSAGE)
        ensure_role_within_reach(actor, role)
    limited = user.selected_contacts if selected_contacts is None else selected_contacts
    chosen = contacts if contacts is not None else list(user.contacts)
    if _access_changes(user, locations, limited, chosen):
        if not actor.can("user.access"):
            raise Forbidden(ACCESS_MESSAGE)
        ensure_access_within_reach(actor, locations[0], locations[1], limited, chosen)
    # Nobody sets an existing user's password, not even a "first" one: switching sign-in
    # off (which clears it, seed 002) and on again with a password of one's choosing took
    # the account over in two requests. New users get theirs when created.
    if password and user.id != actor.user.id:
        raise Forbidden(OTHERS_PASSWORD_MESSAGE)


def _access_changes(user: User, locations, limited: bool, contacts) -> bool:
    scope, chosen = locations
    if scope != user.location_scope or limited != user.selected_contacts:
        return True
    if scope == "locations" and {loc.id for loc in chosen} != {loc.id for loc in user.locations}:
        return True
    return limited and {c.id for c in contacts} != {c.id for c in user.contacts}


def _set_login(actor: Actor, user: User, username: str | None, password: str | None) -> None:
    user.allow_login = True
    if username:
        user.username = username
    elif not user.username:
        user.username = generate_username(user.first_name, user.last_name)
    if password:
        user.password_hash = hash_password(password)
        _sign_out_everywhere(user)  # a new password ends the user's other sessions


def _guard_last_admin(actor: Actor, user: User, role: Role | None, will_sign_in: bool, is_active: bool | None) -> None:
    if not _is_admin_role(user.role):
        return
    loses_role = not _is_admin_role(role)
    can_sign_in_now = user.status == "active" and user.allow_login
    loses_access = can_sign_in_now and (not will_sign_in or is_active is False)
    if not (loses_role or loses_access) or _other_admins_who_can_sign_in(user):
        return
    if loses_role:
        raise ValidationFailed({"role": [LAST_ADMIN_ROLE_DETAIL]}, message=LAST_ADMIN_ROLE_MESSAGE)
    raise ValidationFailed({"allow_login" if not will_sign_in else "is_active": [LAST_ADMIN_MESSAGE]})


def set_active(actor: Actor, user_id: int, active: bool) -> User:
    """The list's inline switch: active or inactive, nothing else."""
    require(actor, "user.update")
    _refuse_in_demo(actor)
    _require_subscription(actor)
    user = _find(user_id)
    ensure_can_act_on(actor, user)
    if not active and user.id == actor.user.id:
        raise ValidationFailed({"is_active": [SELF_DEACTIVATE_MESSAGE]})
    if not active and user.status == "active" and user.allow_login and _is_last_admin(user):
        raise ValidationFailed({"is_active": [LAST_ADMIN_MESSAGE]})
    user.status = "active" if active else "inactive"
    db.session.flush()
    _event("user.activated" if active else "user.deactivated", user)
    return user


def toggle_active(actor: Actor, user_id: int) -> User:
    require(actor, "user.update")
    return set_active(actor, user_id, _find(user_id).status != "active")


def delete_user(actor: Actor, user_id: int) -> User:
    """Soft delete: the row stays (history points at it), gone from every list and sign-in."""
    require(actor, "user.delete")
    _refuse_in_demo(actor)
    user = _find(user_id)
    if user.id == actor.user.id:
        raise ValidationFailed(message=SELF_DELETE_MESSAGE)
    ensure_can_act_on(actor, user)
    if user.status == "active" and user.allow_login and _is_last_admin(user):
        raise ValidationFailed(message=LAST_ADMIN_MESSAGE)
    user.deleted_at = utcnow()
    _sign_out_everywhere(user)
    db.session.flush()
    _event("user.deleted", user)
    return user


def send_password_reset_link(actor: Actor, user_id: int, reset_url) -> User:
    """Mail the user a link to choose a new password: how a colleague helps someone locked
    out, without ever knowing (or setting) their password. `reset_url(token)` builds it."""
    from app.auth.services import mail_password_reset_link

    require(actor, "user.reset_password")
    _refuse_in_demo(actor)
    user = _find(user_id)
    ensure_can_act_on(actor, user)
    if not user.is_active:
        raise ValidationFailed(message=CANNOT_SIGN_IN_MESSAGE)
    if not user.email:
        raise ValidationFailed({"email": [NO_EMAIL_MESSAGE]})
    mail_password_reset_link(user, reset_url)
    _event("user.password_reset_sent", user)
    return user
