"""Custom-field definitions: the extra fields a business adds to contacts, leads, deals
and accounts. Values are validated on write by `common.clean_custom_fields`.

The entity and the key are fixed once a field exists: stored values are keyed by it,
so renaming would orphan them. Label, type, options, required and position can change.
"""
import re

from sqlalchemy import func, select

from app.core.errors import NotFound, ValidationFailed
from app.core.listing import Filter, ListParams, ListSpec, fetch_page, iter_rows
from app.core.permissions import Actor, require
from app.extensions import db
from app.pipelines.models import CUSTOM_FIELD_TYPES, CustomField

ENTITIES = ("contact", "lead", "deal", "account")
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
KEY_MAX, LABEL_MAX, OPTION_MAX, OPTIONS_MAX = 60, 120, 100, 100
# Reading the definitions is needed to fill in the records that carry them.
READ_PERMISSIONS = ("crm.settings", "contacts.view", "accounts.view", "leads.view", "deals.view")

CUSTOM_FIELD_LIST = ListSpec(
    name="CustomField",
    sorts={"position": CustomField.position, "label": CustomField.label, "key": CustomField.key,
           "created_at": CustomField.created_at},
    default_sort="position",
    search=(CustomField.label, CustomField.key),
    filters={
        "entity": Filter(CustomField.entity, choices=ENTITIES, description="The kind of record."),
        "type": Filter(CustomField.type, choices=CUSTOM_FIELD_TYPES, description="The field type."),
    },
)


def list_fields(actor: Actor, params: ListParams):
    require(actor, *READ_PERMISSIONS)
    return fetch_page(select(CustomField), CUSTOM_FIELD_LIST, params)


def all_fields(actor: Actor, params: ListParams):
    require(actor, *READ_PERMISSIONS)
    return iter_rows(select(CustomField), CUSTOM_FIELD_LIST, params)


def fields_by_entity(actor: Actor) -> dict[str, list[CustomField]]:
    require(actor, *READ_PERMISSIONS)
    out: dict[str, list[CustomField]] = {entity: [] for entity in ENTITIES}
    stmt = select(CustomField).order_by(CustomField.position, CustomField.id)
    for definition in db.session.scalars(stmt):
        out.setdefault(definition.entity, []).append(definition)
    return out


def get_field(actor: Actor, field_id: int) -> CustomField:
    require(actor, *READ_PERMISSIONS)
    return _find(field_id)


def _find(field_id: int) -> CustomField:
    definition = db.session.get(CustomField, field_id)
    if definition is None:
        raise NotFound()
    return definition


def slugify_key(label: str) -> str:
    """A key made from a label: "Date of birth" -> "date_of_birth"."""
    key = re.sub(r"[^a-z0-9]+", "_", (label or "").lower()).strip("_")
    if key and not key[0].isalpha():
        key = f"f_{key}"
    return key[:KEY_MAX]


def _clean(data: dict, definition: CustomField | None) -> dict:
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()
              if k in ("entity", "key", "label", "type", "options", "required", "position")}
    errors: dict[str, list[str]] = {}
    creating = definition is None
    if creating or "label" in values:
        if not values.get("label"):
            errors["label"] = ["The label field is required."]
        elif len(values["label"]) > LABEL_MAX:
            errors["label"] = [f"The label may not be greater than {LABEL_MAX} characters."]
    if creating:
        if values.get("entity") not in ENTITIES:
            errors["entity"] = ["The entity field is required." if not values.get("entity")
                                else f"The entity must be one of: {', '.join(ENTITIES)}."]
        if not values.get("key") and values.get("label"):
            values["key"] = slugify_key(values["label"])
        _check_key(values.get("key"), values.get("entity"), errors)
        values.setdefault("type", "text")
    else:
        for fixed in ("entity", "key"):
            if fixed in values and values[fixed] != getattr(definition, fixed):
                errors[fixed] = [f"The {fixed} of a field cannot be changed."]
            values.pop(fixed, None)
    if "type" in values and values["type"] not in CUSTOM_FIELD_TYPES:
        errors["type"] = [f"The type must be one of: {', '.join(CUSTOM_FIELD_TYPES)}."]
    field_type = values.get("type") or (definition.type if definition else "text")
    if "options" in values or "type" in values or creating:
        options = values.get("options", definition.options if definition else None)
        values["options"] = _clean_options(options, field_type, errors)
    if values.get("required") is None:
        values.pop("required", None)
        if creating:
            values["required"] = False
    if "position" in values and values["position"] is None:
        values["position"] = _next_position(values.get("entity") or definition.entity)
    if creating and values.get("position") is None and "entity" not in errors:
        values["position"] = _next_position(values["entity"])
    if errors:
        raise ValidationFailed(errors)
    return values


def _check_key(key, entity, errors: dict) -> None:
    if not key:
        errors["key"] = ["The key field is required."]
    elif len(key) > KEY_MAX:
        errors["key"] = [f"The key may not be greater than {KEY_MAX} characters."]
    elif not KEY_PATTERN.fullmatch(key):
        errors["key"] = ["The key may only contain lower-case letters, digits and underscores,"
                         " and must start with a letter."]
    elif entity in ENTITIES and db.session.scalar(
            select(func.count()).select_from(CustomField).where(CustomField.entity == entity,
                                                                CustomField.key == key)):
        errors["key"] = ["The key has already been taken."]


def _clean_options(options, field_type: str, errors: dict) -> list[str]:
    if field_type != "choice":
        return []
    if options is None:
        options = []
    if isinstance(options, str):  # "Gold, Silver" from a form
        options = re.split(r"[,\n]", options)
    if not isinstance(options, list):
        errors["options"] = ["The options must be a list of strings."]
        return []
    cleaned: list[str] = []
    for option in options:
        if not isinstance(option, str):
            errors["options"] = ["The options must be a list of strings."]
            return []
        option = option.strip()
        if len(option) > OPTION_MAX:
            errors["options"] = [f"Each option may not be greater than {OPTION_MAX} characters."]
            return []
        if option and option not in cleaned:
            cleaned.append(option)
    if not cleaned:
        errors["options"] = ["A choice field needs at least one option."]
    elif len(cleaned) > OPTIONS_MAX:
        errors["options"] = [f"A choice field may not have more than {OPTIONS_MAX} options."]
    return cleaned


def _next_position(entity: str) -> int:
    highest = db.session.scalar(select(func.max(CustomField.position)).where(CustomField.entity == entity))
    return (highest or 0) + 1


def create_field(actor: Actor, data: dict) -> CustomField:
    require(actor, "crm.settings")
    definition = CustomField(**_clean(data, None))
    db.session.add(definition)
    db.session.flush()
    return definition


def update_field(actor: Actor, field_id: int, data: dict) -> CustomField:
    require(actor, "crm.settings")
    definition = _find(field_id)
    for key, value in _clean(data, definition).items():
        setattr(definition, key, value)
    db.session.flush()
    return definition


def delete_field(actor: Actor, field_id: int) -> None:
    """The definition goes; values already stored stay in the records but are no longer
    shown, exported or validated (adding the key again brings them back)."""
    require(actor, "crm.settings")
    db.session.delete(_find(field_id))
    db.session.flush()
