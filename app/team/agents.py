"""Sales commission agents: users with `is_cmmsn_agnt` set who never sign in (seed 002).

They share the users table with staff but not its screens: staff lists leave them out,
and these functions see nothing else. Permissions are the Users ones, as in the web
Team management area. Views and API resources call these, never the model.
"""
import re
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, func, select

from app.core.errors import NotFound, ValidationFailed
from app.core.events import record_event
from app.core.listing import Filter, ListParams, ListSpec, fetch_page, iter_rows
from app.core.models import utcnow
from app.core.permissions import Actor, require
from app.extensions import db
from app.team import permissions as _permissions  # noqa: F401  (registers user.*)
from app.team.models import User

STATUSES = ("active", "inactive", "terminated")
FIELDS = ("surname", "first_name", "last_name", "email", "contact_number", "address", "cmmsn_percent")
MAX_LENGTHS = {"surname": 30, "first_name": 120, "last_name": 120, "email": 191, "contact_number": 40,
               "address": 500, "language": 10}
# What the API calls a field, for error keys and messages.
API_NAMES = {"contact_number": "contact_no"}
DEFAULT_LANGUAGE = "en"

_FULL_NAME = func.trim(func.coalesce(User.surname, "") + " " + User.first_name + " "
                       + func.coalesce(User.last_name, ""))
_SORT_NAME = User.first_name + " " + func.coalesce(User.last_name, "")

AGENT_LIST = ListSpec(
    name="CommissionAgent",
    sorts={"name": _SORT_NAME, "email": User.email, "cmmsn_percent": User.cmmsn_percent,
           "created_at": User.created_at, "status": User.status},
    default_sort="created_at",
    default_direction="desc",
    search=(_FULL_NAME, User.email, User.contact_number),
    filters={"status": Filter(User.status, choices=STATUSES, description="Agent status.")},
)


def _agents() -> Select:
    return select(User).where(User.is_cmmsn_agnt.is_(True), User.deleted_at.is_(None))


def list_agents(actor: Actor, params: ListParams):
    require(actor, "user.view", "user.create")
    return fetch_page(_agents(), AGENT_LIST, params)


def all_agents(actor: Actor, params: ListParams):
    require(actor, "user.view", "user.create")
    return iter_rows(_agents(), AGENT_LIST, params)


def get_agent(actor: Actor, agent_id: int) -> User:
    require(actor, "user.view", "user.create")
    return _find(agent_id)


def _find(agent_id: int) -> User:
    agent = db.session.scalar(_agents().where(User.id == agent_id))
    if agent is None:
        raise NotFound()
    return agent


# --- commission percent --------------------------------------------------------------

PERCENT_PLACES = 2
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d+)?|[.,]\d+)", re.ASCII)


def parse_percent(value, decimal_separator: str = ".", label: str = "cmmsn percent") -> Decimal | None:
    """A commission percentage from a JSON number or a string, as a Decimal (never a float).

    Strings follow the business's number format, and are forgiving where that is safe:
    with "," as separator "12,5" is 12.5 and so is "12.5" (a dot with no comma); with "."
    "12.5" is 12.5 and so is "12,5" (one comma and no dot is a decimal comma). Both
    separators at once, or one of them twice, is a thousands separator: refused, as is
    more than 2 decimal places (so "1.000" and "1,000" are never guessed at). 0 to 100.
    None or an empty string is None. Raises ValueError with the message to show.
    """
    if value is None:
        return None
    example = "12,5" if decimal_separator == "," else "12.5"
    not_a_number = f"The {label} must be a number, such as {example}."
    places = f"The {label} may not have more than {PERCENT_PLACES} decimal places."
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise ValueError(not_a_number)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if ("," in text and "." in text) or text.count(",") > 1 or text.count(".") > 1:
            raise ValueError(f"The {label} must not contain thousands separators; write it like {example}.")
        if not _PLAIN_NUMBER.fullmatch(text):
            raise ValueError(not_a_number)
        text = text.replace(",", ".")
        if "." in text and len(text.rsplit(".", 1)[1]) > PERCENT_PLACES:
            raise ValueError(places)
    else:
        text = str(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(not_a_number) from None
    if not number.is_finite():
        raise ValueError(not_a_number)
    if number == 0:
        number = Decimal(0)  # not -0
    if number < 0 or number > 100:
        raise ValueError(f"The {label} must be between 0 and 100.")
    if number != number.quantize(Decimal(1).scaleb(-PERCENT_PLACES), rounding=ROUND_DOWN):
        raise ValueError(places)
    return number.quantize(Decimal(1).scaleb(-PERCENT_PLACES))


# --- writes --------------------------------------------------------------------------

def _clean(actor: Actor, data: dict, agent: User | None) -> dict:
    data = dict(data)
    if "contact_no" in data:
        data["contact_number"] = data.pop("contact_no")
    allowed = FIELDS + (("language",) if agent is None else ())
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items() if k in allowed}
    values = {k: (None if v == "" and k != "first_name" else v) for k, v in values.items()}
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(API_NAMES.get(field, field), []).append(message)

    if (agent is None or "first_name" in values) and not values.get("first_name"):
        error("first_name", "The first name field is required.")
    for key, limit in MAX_LENGTHS.items():
        if isinstance(values.get(key), str) and len(values[key]) > limit:
            label = API_NAMES.get(key, key).replace("_", " ")
            error(key, f"The {label} may not be greater than {limit} characters.")
    if values.get("email") and "email" not in errors:
        try:
            values["email"] = validate_email(values["email"], check_deliverability=False).normalized
        except EmailNotValidError:
            error("email", "The email must be a valid email address.")
    if agent is None or "cmmsn_percent" in values:
        try:
            values["cmmsn_percent"] = parse_percent(values.get("cmmsn_percent"), actor.user.business.decimal_separator)
        except ValueError as exc:
            error("cmmsn_percent", str(exc))
        else:
            if agent is None and values["cmmsn_percent"] is None:
                error("cmmsn_percent", "The cmmsn percent field is required.")
    if agent is None:
        values["language"] = values.get("language") or DEFAULT_LANGUAGE
    if errors:
        raise ValidationFailed(errors)
    return values


def _event(name: str, agent: User) -> None:
    record_event(name, {"id": agent.id, "name": agent.full_name})


def create_agent(actor: Actor, data: dict) -> User:
    require(actor, "user.create")
    values = _clean(actor, data, None)
    # An agent is paid, not signed in: no username, no password, no role, login off.
    agent = User(**values, username=None, password_hash=None, role=None, allow_login=False,
                 is_cmmsn_agnt=True, status="active")
    db.session.add(agent)
    db.session.flush()
    _event("agent.created", agent)
    return agent


def update_agent(actor: Actor, agent_id: int, data: dict) -> User:
    """Partial: the fields sent change, the others keep their values (PATCH and PUT)."""
    require(actor, "user.update")
    agent = _find(agent_id)
    for key, value in _clean(actor, data, agent).items():
        setattr(agent, key, value)
    db.session.flush()
    _event("agent.updated", agent)
    return agent


def delete_agent(actor: Actor, agent_id: int) -> None:
    """Soft delete: the row stays (commission history points at it) with deleted_at set."""
    require(actor, "user.delete")
    agent = _find(agent_id)
    agent.deleted_at = utcnow()
    db.session.flush()
    _event("agent.deleted", agent)
