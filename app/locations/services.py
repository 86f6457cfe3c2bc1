"""Location rules and writes. Views and API resources call these, never the model."""
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from app.core.concurrency import check_version
from app.core.errors import NotFound, ValidationFailed
from app.core.events import record_event
from app.core.listing import Filter, ListParams, ListSpec, fetch_page, iter_rows
from app.core.permissions import Actor, register_permissions, require
from app.extensions import db
from app.locations.models import Location

register_permissions("Locations", {
    "locations.view": "See locations",
    "locations.create": "Add locations",
    "locations.update": "Edit locations",
    "locations.delete": "Delete locations",
})

FIELDS = ("name", "code", "landmark", "city", "state", "country", "zip_code", "mobile", "email", "website",
          "is_active")
MAX_LENGTHS = {"name": 120, "code": 40, "landmark": 200, "city": 100, "state": 100, "country": 100,
               "zip_code": 20, "mobile": 40, "email": 191, "website": 191}

LOCATION_LIST = ListSpec(
    name="Location",
    sorts={"name": Location.name, "code": Location.code, "city": Location.city, "created_at": Location.created_at},
    default_sort="name",
    search=(Location.name, Location.code, Location.city, Location.email),
    filters={
        "is_active": Filter(Location.is_active, kind="bool", description="1/0 or true/false."),
        "city": Filter(Location.city),
        "country": Filter(Location.country),
    },
)


def list_locations(actor: Actor, params: ListParams):
    require(actor, "locations.view")
    return fetch_page(select(Location), LOCATION_LIST, params)


def all_locations(actor: Actor, params: ListParams):
    require(actor, "locations.view")
    return iter_rows(select(Location), LOCATION_LIST, params)


def get_location(actor: Actor, location_id: int) -> Location:
    require(actor, "locations.view")
    return _find(location_id)


def _find(location_id: int) -> Location:
    location = db.session.get(Location, location_id)
    if location is None:
        raise NotFound()
    return location


def _clean(data: dict, location: Location | None) -> dict:
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items() if k in FIELDS}
    values = {k: (None if v == "" and k != "name" else v) for k, v in values.items()}
    errors: dict[str, list[str]] = {}
    if (location is None or "name" in values) and not values.get("name"):
        errors["name"] = ["The name field is required."]
    for key, limit in MAX_LENGTHS.items():
        if isinstance(values.get(key), str) and len(values[key]) > limit:
            errors[key] = [f"The {key.replace('_', ' ')} may not be greater than {limit} characters."]
    if values.get("email") and "email" not in errors:
        try:
            values["email"] = validate_email(values["email"], check_deliverability=False).normalized
        except EmailNotValidError:
            errors["email"] = ["The email must be a valid email address."]
    if values.get("code") and "code" not in errors and _code_taken(values["code"], location):
        errors["code"] = ["The code has already been taken."]
    if errors:
        raise ValidationFailed(errors)
    return values


def _code_taken(code: str, location: Location | None) -> bool:
    # lower() on both sides: SQLite folds only ASCII, Python folds everything.
    stmt = select(func.count()).select_from(Location).where(func.lower(Location.code) == func.lower(code))
    if location is not None:
        stmt = stmt.where(Location.id != location.id)
    return bool(db.session.scalar(stmt))


def create_location(actor: Actor, data: dict) -> Location:
    require(actor, "locations.create")
    location = Location(**_clean(data, None))
    db.session.add(location)
    db.session.flush()
    record_event("location.created", {"id": location.id, "name": location.name})
    return location


def update_location(actor: Actor, location_id: int, data: dict, expected_version: int | None = None) -> Location:
    """`expected_version` (If-Match, or the edit form's hidden field) refuses a stale write."""
    require(actor, "locations.update")
    location = _find(location_id)
    check_version(location, expected_version)
    for key, value in _clean(data, location).items():
        setattr(location, key, value)
    db.session.flush()
    record_event("location.updated", {"id": location.id, "name": location.name})
    return location


def delete_location(actor: Actor, location_id: int, expected_version: int | None = None) -> None:
    require(actor, "locations.delete")
    location = _find(location_id)
    check_version(location, expected_version)
    db.session.delete(location)
    db.session.flush()
    record_event("location.deleted", {"id": location_id})
