"""Business settings: the profile and the switches behind seed 002's 402/403/422 rules.

`user_quota` (None: unlimited) caps staff users (422 when used up); with
`enforce_subscription` on, a business whose `subscription_status` is not active or
trialing gets 402 on staff-user writes; `demo_mode` refuses them with 403. Anyone signed
in may read the settings; changing them needs `business.settings`. Not refused in demo
mode: that would lock the owner out of switching it off.
"""
import re
from datetime import date
from functools import cache
from zoneinfo import available_timezones

from babel.core import get_global
from babel.numbers import get_territory_currencies
from sqlalchemy import func, select

from app.core.errors import NotFound, ValidationFailed
from app.core.events import record_event
from app.core.permissions import Actor, require
from app.extensions import db
from app.team import permissions as _permissions  # noqa: F401  (registers business.settings)
from app.team.models import Business, User

SUBSCRIPTION_STATUSES = ("active", "trialing", "past_due", "canceled")
SUBSCRIBED_STATUSES = ("active", "trialing")  # what Business.is_subscribed counts
DECIMAL_SEPARATORS = (".", ",")
FIELDS = ("name", "currency", "timezone", "user_quota", "enforce_subscription", "subscription_status",
          "demo_mode", "decimal_separator")
NAME_MAX_LENGTH = 120
MAX_USER_QUOTA = 1_000_000
WHOLE_NUMBER = re.compile(r"[+-]?\d{1,12}", re.ASCII)


@cache
def currency_codes() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today (CLDR's data, through Babel):
    not withdrawn ones (DEM, ANG since 2025), funds (BOV, USN) or metals (XAU)."""
    today = date.today()
    return frozenset(code for territory in get_global("territory_currencies")
                     for code in get_territory_currencies(territory, today))


@cache
def _time_zones() -> dict[str, str]:
    """IANA zone names by their lower-case form, so "europe/london" finds "Europe/London"."""
    return {name.lower(): name for name in available_timezones()}


def time_zone_names() -> list[str]:
    return sorted(_time_zones().values())


def get_business(actor: Actor) -> Business:
    """The actor's own business; any signed-in user may read it."""
    business = db.session.get(Business, actor.business_id)
    if business is None:
        raise NotFound()
    return business


def staff_user_count() -> int:
    """Staff users the quota counts: not commission agents, not deleted."""
    stmt = select(func.count()).select_from(User).where(User.is_cmmsn_agnt.is_(False), User.deleted_at.is_(None))
    return db.session.scalar(stmt) or 0


def _clean(data: dict, business: Business) -> dict:
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items() if k in FIELDS}
    errors: dict[str, list[str]] = {}
    if "name" in values:
        if not values["name"]:
            errors["name"] = ["The name field is required."]
        elif len(values["name"]) > NAME_MAX_LENGTH:
            errors["name"] = [f"The name may not be greater than {NAME_MAX_LENGTH} characters."]
    if "currency" in values:
        currency = (values["currency"] or "").upper()
        if not currency:
            errors["currency"] = ["The currency field is required."]
        elif currency != business.currency and currency not in currency_codes():  # a withdrawn one may stay
            errors["currency"] = ["The currency must be an ISO 4217 currency code, such as USD or EUR."]
        values["currency"] = currency
    if "timezone" in values:
        zone = _time_zones().get((values["timezone"] or "").lower())
        if not values["timezone"]:
            errors["timezone"] = ["The timezone field is required."]
        elif zone is None:
            errors["timezone"] = ["The timezone must be a valid time zone, such as Europe/London."]
        values["timezone"] = zone
    if "user_quota" in values:
        try:
            values["user_quota"] = parse_quota(values["user_quota"])
        except ValueError as exc:
            errors["user_quota"] = [str(exc)]
    for key in ("enforce_subscription", "demo_mode"):
        if key in values and not isinstance(values[key], bool):
            errors[key] = [f"The {key.replace('_', ' ')} field must be true or false."]
    for key, choices in (("subscription_status", SUBSCRIPTION_STATUSES), ("decimal_separator", DECIMAL_SEPARATORS)):
        if key in values and values[key] not in choices:
            errors[key] = [f"The selected {key.replace('_', ' ')} is invalid."]
    if errors:
        raise ValidationFailed(errors)
    return values


def parse_quota(value) -> int | None:
    """None or "" is unlimited; otherwise a whole number from 0 to MAX_USER_QUOTA."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and WHOLE_NUMBER.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("The user quota must be a whole number, or empty for no limit.")
    if value < 0:
        raise ValueError("The user quota must be at least 0.")
    if value > MAX_USER_QUOTA:
        raise ValueError(f"The user quota may not be greater than {MAX_USER_QUOTA}.")
    return value


def update_business(actor: Actor, data: dict) -> Business:
    """Partial: the fields sent change, the others keep their values."""
    require(actor, "business.settings")
    business = get_business(actor)
    values = _clean(data, business)
    for key, value in values.items():
        setattr(business, key, value)
    db.session.flush()
    record_event("business.updated", {"id": business.id, "fields": sorted(values)})
    return business
