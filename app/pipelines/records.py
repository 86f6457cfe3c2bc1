"""Rules contacts and accounts share: cleaning text, e-mail, phones, owner, custom fields,
the owner choices of forms and filters, and the related deals of a record."""
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.converters import MAX_ROW_ID
from app.core.errors import ValidationFailed
from app.core.permissions import Actor
from app.extensions import db
from app.pipelines import access
from app.pipelines.common import check_owner, clean_custom_fields, normalize_phone
from app.pipelines.models import Deal
from app.team.models import User

TRUE_WORDS = {"1", "true", "yes", "on", "y"}
FALSE_WORDS = {"0", "false", "no", "off", "n", ""}

# Where the business's own numbers are written without a country code. The business has
# no country of its own; its currency, then its time zone, say where it most likely is.
_REGION_BY_CURRENCY = {
    "GBP": "GB", "USD": "US", "CAD": "CA", "AUD": "AU", "NZD": "NZ", "INR": "IN", "ZAR": "ZA",
    "CHF": "CH", "JPY": "JP", "SEK": "SE", "NOK": "NO", "DKK": "DK", "PLN": "PL", "CZK": "CZ",
    "HUF": "HU", "BRL": "BR", "MXN": "MX", "SGD": "SG", "HKD": "HK", "IEP": "IE", "NGN": "NG",
    "KES": "KE", "AED": "AE", "SAR": "SA", "ILS": "IL", "TRY": "TR", "PHP": "PH", "MYR": "MY",
    "IDR": "ID", "THB": "TH", "KRW": "KR", "CNY": "CN", "PKR": "PK", "BDT": "BD", "EGP": "EG",
}
_REGION_BY_TIMEZONE = {
    "Europe/London": "GB", "Europe/Dublin": "IE", "Europe/Paris": "FR", "Europe/Berlin": "DE",
    "Europe/Madrid": "ES", "Europe/Rome": "IT", "Europe/Amsterdam": "NL", "Europe/Brussels": "BE",
    "Europe/Vienna": "AT", "Europe/Lisbon": "PT", "Europe/Helsinki": "FI", "Europe/Athens": "GR",
    "Europe/Luxembourg": "LU", "Europe/Zurich": "CH", "Europe/Stockholm": "SE", "Europe/Oslo": "NO",
    "Europe/Copenhagen": "DK", "Europe/Warsaw": "PL", "Europe/Prague": "CZ",
    "America/New_York": "US", "America/Chicago": "US", "America/Denver": "US",
    "America/Los_Angeles": "US", "America/Toronto": "CA", "America/Vancouver": "CA",
    "Australia/Sydney": "AU", "Australia/Melbourne": "AU", "Pacific/Auckland": "NZ",
    "Asia/Kolkata": "IN", "Asia/Singapore": "SG", "Asia/Tokyo": "JP", "Africa/Johannesburg": "ZA",
}


def business_region(actor: Actor) -> str | None:
    """The phone region of the actor's business (GB, US, ...), or None when unknown."""
    business = getattr(actor.user, "business", None)
    if business is None:
        return None
    by_zone = _REGION_BY_TIMEZONE.get(business.timezone or "")
    if (business.currency or "").upper() == "EUR" or by_zone:
        return by_zone
    return _REGION_BY_CURRENCY.get((business.currency or "").upper())


def strip_values(data: dict, allowed) -> dict:
    """The allowed keys, strings stripped, empty strings as None."""
    out = {}
    for key, value in data.items():
        if key not in allowed:
            continue
        if isinstance(value, str):
            value = value.strip() or None
        out[key] = value
    return out


def label_of(field: str) -> str:
    return field.replace("_", " ")


def check_lengths(values: dict, limits: dict, errors: dict) -> None:
    for key, limit in limits.items():
        value = values.get(key)
        if isinstance(value, str) and len(value) > limit:
            errors[key] = [f"The {label_of(key)} may not be greater than {limit} characters."]
        elif value is not None and not isinstance(value, str):
            errors[key] = [f"The {label_of(key)} must be a string."]


def clean_email(values: dict, errors: dict, field: str = "email") -> None:
    if values.get(field) and field not in errors:
        try:
            values[field] = validate_email(values[field], check_deliverability=False).normalized
        except EmailNotValidError:
            errors[field] = [f"The {label_of(field)} must be a valid email address."]


def clean_phones(values: dict, fields, region: str | None) -> None:
    for key in fields:
        if isinstance(values.get(key), str):
            values[key] = normalize_phone(values[key], region)


def as_bool(value, field: str, errors: dict) -> bool | None:
    if isinstance(value, bool) or value is None:
        return bool(value)
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    errors[field] = [f"The {label_of(field)} field must be true or false."]
    return None


def as_id(value, field: str, errors: dict) -> int | None:
    """An id from JSON (int) or a form (digits); None for empty."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        errors[field] = [f"The {label_of(field)} must be an integer."]
        return None
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())
    if isinstance(value, int):
        if not 1 <= value <= MAX_ROW_ID:  # no row has it, and the database could not even compare it
            errors[field] = [f"The selected {label_of(field)} is invalid."]
            return None
        return value
    errors[field] = [f"The {label_of(field)} must be an integer."]
    return None


def clean_owner(values: dict, errors: dict) -> None:
    if "owner_id" in values:
        values["owner_id"] = as_id(values["owner_id"], "owner_id", errors)
        if "owner_id" not in errors:
            check_owner(values["owner_id"], errors)


def clean_custom(entity: str, values: dict, current: dict | None, errors: dict, creating: bool) -> None:
    """Validate `values["custom_fields"]` (merged over `current`); required fields are
    checked on create, and whenever custom fields are sent."""
    if "custom_fields" not in values and not creating:
        return
    sent = values.get("custom_fields") or {}
    if not isinstance(sent, dict):
        errors["custom_fields"] = ["The custom fields must be an object."]
        return
    try:
        values["custom_fields"] = clean_custom_fields(entity, sent, current)
    except ValidationFailed as exc:
        errors.update(exc.errors)


def owner_choices() -> list[User]:
    """Staff who can own records: active, not deleted, not commission agents."""
    stmt = (select(User).where(User.is_cmmsn_agnt.is_(False), User.deleted_at.is_(None), User.status == "active")
            .order_by(User.first_name, User.last_name))
    return list(db.session.scalars(stmt))


def related_deals(actor: Actor, **where) -> list[Deal]:
    """The deals of a contact or account (`contact_id=` / `account_id=`) the actor may see."""
    if not actor.can("deals.view"):
        return []
    stmt = select(Deal).filter_by(**where).options(joinedload(Deal.stage), joinedload(Deal.owner))
    stmt = access.visible(stmt, Deal, actor, "deals").order_by(Deal.created_at.desc(), Deal.id.desc())
    return list(db.session.scalars(stmt.limit(50)))
