"""/api/v1/roles: the business's roles and their permissions (seed 002)."""
from flask import url_for
from marshmallow import Schema, fields, post_load, validate

from app.api.base import Blueprint, current_actor, list_answer, object_answer
from app.api.schemas import (
    ApiSchema,
    DeletedSchema,
    FormatArgs,
    UtcDateTime,
    envelope,
    length,
    list_envelope,
    message_envelope,
)
from app.team import roles as services
from app.team.roles import NAME_MAX_LENGTH, ROLE_LIST

blp = Blueprint("api_roles", __name__, url_prefix="/roles", description="Business roles and their permissions.")


class RoleListItemSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, attribute="display_name",
                         metadata={"description": "Display name shown in the UI."})
    name_key = fields.String(required=True, metadata={"description": "Role key with the business suffix removed."})
    name_storage = fields.String(required=True, attribute="name",
                                 metadata={"description": "Stored name including the #business_id suffix."})
    is_default = fields.Boolean(required=True)
    is_service_staff = fields.Boolean(required=True)
    users_count = fields.Integer(required=True, metadata={"description": "Users (not deleted) holding the role."})
    created_at = UtcDateTime(required=True, allow_none=True)


class RoleDetailSchema(RoleListItemSchema):
    guard_name = fields.String(required=True)
    permissions = fields.List(fields.String(), required=True, attribute="permission_names",
                              metadata={"description": "Sorted permission names."})
    updated_at = UtcDateTime(required=True, allow_none=True)


def _names(description: str):
    # Blank or too-long names are refused by the service, naming the list (not "permissions.0").
    return fields.List(fields.String(), allow_none=True,
                       validate=validate.Length(max=500, error="At most 500 permission names may be sent."),
                       metadata={"description": description})


class RolePatchSchema(ApiSchema):
    """PATCH: the fields sent change. Sending any permission list replaces the permissions
    with the merge of the lists sent."""

    name = fields.String(validate=length(NAME_MAX_LENGTH, minimum=1),
                         metadata={"description": "Display name, without #. Unique in the business."})
    permissions = _names("Permission names to attach; unknown names are created.")
    is_service_staff = fields.Boolean()
    spg_permissions = _names("More permission names, merged into permissions.")
    radio_options = _names("More permission names, merged into permissions.")


class RoleWriteSchema(RolePatchSchema):
    """POST and PUT: the whole role. Left out: no permissions, not service staff."""

    name = fields.String(required=True, validate=length(NAME_MAX_LENGTH, minimum=1),
                         metadata={"description": "Display name, without #. Unique in the business."})

    @post_load
    def fill_left_out_fields(self, data, **kwargs):
        # PUT replaces the role, so what is not sent must not survive from before.
        return {"permissions": None, "spg_permissions": None, "radio_options": None,
                "is_service_staff": False, **data}


@blp.get("")
@blp.arguments(ROLE_LIST.args_schema(), location="query", as_kwargs=False)
@blp.response(200, list_envelope(RoleListItemSchema))
@blp.forbidden_unless_permitted
def list_roles(params):
    """List roles. Needs `roles.view`."""
    actor = current_actor()
    return list_answer(params, RoleListItemSchema, lambda: services.list_roles(actor, params),
                       lambda: services.all_roles(actor, params), "roles")


@blp.post("")
@blp.idempotent
@blp.arguments(RoleWriteSchema)
@blp.response(201, envelope(RoleDetailSchema))
@blp.forbidden_unless_permitted
def create_role(data):
    """Create a role. Needs `roles.create`; refused (403) in demo mode."""
    role = services.create_role(current_actor(), data)
    body, status = object_answer(role, RoleDetailSchema, status=201)
    return body, status, {"Location": url_for("api_roles.get_role", role_id=role.id)}


@blp.get("/<id:role_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(RoleDetailSchema))
@blp.forbidden_unless_permitted
def get_role(args, role_id):
    """One role with its sorted permissions (`format=csv`: one row with a data_json column). Needs `roles.view`."""
    role = services.get_role(current_actor(), role_id)
    return object_answer(role, RoleDetailSchema, args["format"], f"role-{role_id}")


@blp.put("/<id:role_id>")
@blp.idempotent
@blp.arguments(RoleWriteSchema)
@blp.response(200, envelope(RoleDetailSchema))
@blp.forbidden_unless_permitted
def replace_role(data, role_id):
    """Replace a role: permissions become the merge of the lists sent. Needs `roles.update`.

    Default roles cannot be edited (422), except this business's Cashier (not renamed).
    """
    return object_answer(services.update_role(current_actor(), role_id, data), RoleDetailSchema)


@blp.patch("/<id:role_id>")
@blp.idempotent
@blp.arguments(RolePatchSchema)
@blp.response(200, envelope(RoleDetailSchema))
@blp.forbidden_unless_permitted
def update_role(data, role_id):
    """Update some fields of a role. Needs `roles.update`; default roles as for PUT."""
    return object_answer(services.update_role(current_actor(), role_id, data), RoleDetailSchema)


@blp.delete("/<id:role_id>")
@blp.response(200, message_envelope(DeletedSchema))
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.forbidden_unless_permitted
def delete_role(role_id):
    """Delete a role. Needs `roles.delete`. Default roles (but Cashier) and roles users hold are a 422."""
    deleted_id = services.delete_role(current_actor(), role_id)
    return {"message": "Deleted", "data": {"id": deleted_id}}
