"""Field rules shared by contacts, accounts, leads and deals."""
from datetime import date
from decimal import Decimal, InvalidOperation

import phonenumbers
from sqlalchemy import select

from app.core.errors import ValidationFailed
from app.extensions import db
from app.pipelines.models import CustomField
from app.team.models import User


def normalize_phone(value: str | None, region: str | None = None) -> str | None:
    """E.164 when the number parses as a valid one, else the number as typed.

    People type local numbers ("0161 496 0000"); without a region they stay as typed
    rather than being rejected, so nothing a user entered is lost.
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_owner(owner_id, errors: dict, field: str = "owner_id") -> None:
    """An owner must be an active staff user of this business (not a commission agent)."""
    if owner_id in (None, ""):
        return
    owner = db.session.scalar(
        select(User).where(User.id == owner_id, User.deleted_at.is_(None), User.is_cmmsn_agnt.is_(False))
    ) if isinstance(owner_id, int) else None
    if owner is None:
        errors[field] = [f"The selected {field.replace('_', ' ')} is invalid."]


def custom_field_definitions(entity: str) -> list[CustomField]:
    stmt = select(CustomField).where(CustomField.entity == entity).order_by(CustomField.position, CustomField.id)
    return list(db.session.scalars(stmt))


def clean_custom_fields(entity: str, values: dict | None, current: dict | None = None) -> dict:
    """Validate `values` against the business's fields for `entity`; merged over `current`.

    Unknown keys, wrong types and missing required fields are 422s keyed
    `custom_fields.<key>`. A value of None or "" removes the field.
    """
    definitions = {f.key: f for f in custom_field_definitions(entity)}
    merged = dict(current or {})
    errors: dict[str, list[str]] = {}
    for key, raw in (values or {}).items():
        definition = definitions.get(key)
        if definition is None:
            errors[f"custom_fields.{key}"] = [f"There is no {entity} field named {key}."]
            continue
        if raw is None or raw == "":
            merged.pop(key, None)
            continue
        try:
            merged[key] = _coerce_custom(definition, raw)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = [str(exc)]
    for key, definition in definitions.items():
        if definition.required and merged.get(key) in (None, "") and f"custom_fields.{key}" not in errors:
            errors[f"custom_fields.{key}"] = [f"The {definition.label} field is required."]
    if errors:
        raise ValidationFailed(errors)
    return merged


def _coerce_custom(definition: CustomField, raw):
    label = definition.label
    if definition.type == "number":
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError(f"The {label} must be a number.") from None
        if not number.is_finite():
            raise ValueError(f"The {label} must be a number.")
        return int(number) if number == number.to_integral_value() else float(number)
    if definition.type == "date":
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError(f"The {label} must be a date (YYYY-MM-DD).") from None
    if definition.type == "checkbox":
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in {"1", "true", "yes", "on"}:
            return True
        if word in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"The {label} must be true or false.")
    text = str(raw).strip()
    if definition.type == "choice" and text not in (definition.options or []):
        raise ValueError(f"The {label} must be one of: {', '.join(definition.options or [])}.")
    if len(text) > 500:
        raise ValueError(f"The {label} may not be greater than 500 characters.")
    return text
