"""/api/v1/custom-fields: the extra fields of contacts, leads, deals and accounts."""
from flask import url_for
from marshmallow import Schema, fields, post_load, validate

from app.api.base import Blueprint, current_actor, list_answer, object_answer
from app.api.schemas import ApiSchema, FormatArgs, UtcDateTime, envelope, length, list_envelope
from app.pipelines import custom_fields as services
from app.pipelines.custom_fields import CUSTOM_FIELD_LIST, ENTITIES
from app.pipelines.models import CUSTOM_FIELD_TYPES

blp = Blueprint("api_custom_fields", __name__, url_prefix="/custom-fields",
                description="Custom-field definitions. Values live on the records, under `custom_fields`.")


class CustomFieldSchema(Schema):
    id = fields.Integer(required=True)
    entity = fields.String(required=True, metadata={"enum": list(ENTITIES)})
    key = fields.String(required=True)
    label = fields.String(required=True)
    type = fields.String(required=True, metadata={"enum": list(CUSTOM_FIELD_TYPES)})
    options = fields.List(fields.String(), required=True)
    required = fields.Boolean(required=True)
    position = fields.Integer(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


TYPE_DOC = ("text, number, date (YYYY-MM-DD), choice (one of `options`) or checkbox (true/false).")


class CustomFieldPatchSchema(ApiSchema):
    """PATCH: the fields sent change. The entity and key of a field cannot change."""

    entity = fields.String(validate=validate.OneOf(ENTITIES), metadata={"description": "Cannot change."})
    key = fields.String(validate=length(60, minimum=1), metadata={"description": "Cannot change."})
    label = fields.String(validate=length(120, minimum=1))
    type = fields.String(validate=validate.OneOf(CUSTOM_FIELD_TYPES), metadata={"description": TYPE_DOC})
    options = fields.List(fields.String(validate=length(100)), allow_none=True,
                          metadata={"description": "The choices of a choice field (ignored for other types)."})
    required = fields.Boolean(allow_none=True)
    position = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=1_000_000))


class CustomFieldCreateSchema(CustomFieldPatchSchema):
    entity = fields.String(required=True, validate=validate.OneOf(ENTITIES),
                           metadata={"description": "contact, lead, deal or account."})
    key = fields.String(validate=length(60, minimum=1), metadata={
        "description": "Lower-case letters, digits and _; unique per entity. Made from the label when left out."})
    label = fields.String(required=True, validate=length(120, minimum=1))


class CustomFieldPutSchema(CustomFieldPatchSchema):
    """PUT: the whole definition; type, options and required left out are reset (the position stays)."""

    label = fields.String(required=True, validate=length(120, minimum=1))

    @post_load
    def fill_left_out_fields(self, data, **kwargs):
        return {"type": "text", "options": None, "required": False, **data}


@blp.get("")
@blp.arguments(CUSTOM_FIELD_LIST.args_schema(), location="query", as_kwargs=False)
@blp.response(200, list_envelope(CustomFieldSchema))
@blp.forbidden_unless_permitted
def list_custom_fields(params):
    """List custom-field definitions (filter `entity`). Needs `crm.settings` or a view permission of the CRM."""
    actor = current_actor()
    return list_answer(params, CustomFieldSchema, lambda: services.list_fields(actor, params),
                       lambda: services.all_fields(actor, params), "custom-fields")


@blp.post("")
@blp.idempotent
@blp.arguments(CustomFieldCreateSchema)
@blp.response(201, envelope(CustomFieldSchema))
@blp.forbidden_unless_permitted
def create_custom_field(data):
    """Add a custom field. Needs `crm.settings`."""
    definition = services.create_field(current_actor(), data)
    location = url_for("api_custom_fields.get_custom_field", field_id=definition.id)
    return {"data": definition}, 201, {"Location": location}


@blp.get("/<id:field_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(CustomFieldSchema))
@blp.forbidden_unless_permitted
def get_custom_field(args, field_id):
    """One custom-field definition. Needs `crm.settings` or a view permission of the CRM."""
    definition = services.get_field(current_actor(), field_id)
    return object_answer(definition, CustomFieldSchema, args["format"], f"custom-field-{field_id}")


@blp.put("/<id:field_id>")
@blp.idempotent
@blp.arguments(CustomFieldPutSchema)
@blp.response(200, envelope(CustomFieldSchema))
@blp.forbidden_unless_permitted
def replace_custom_field(data, field_id):
    """Replace a definition (entity and key stay). Needs `crm.settings`."""
    return {"data": services.update_field(current_actor(), field_id, data)}


@blp.patch("/<id:field_id>")
@blp.idempotent
@blp.arguments(CustomFieldPatchSchema)
@blp.response(200, envelope(CustomFieldSchema))
@blp.forbidden_unless_permitted
def update_custom_field(data, field_id):
    """Change some of a definition. Needs `crm.settings`."""
    return {"data": services.update_field(current_actor(), field_id, data)}


@blp.delete("/<id:field_id>")
@blp.response(204)
@blp.forbidden_unless_permitted
def delete_custom_field(field_id):
    """Delete a definition; values stored on records are no longer shown or exported. Needs `crm.settings`."""
    services.delete_field(current_actor(), field_id)
