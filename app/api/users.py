"""/api/v1/users: staff users of the business (seed 002, Team management)."""
from flask import url_for
from marshmallow import Schema, ValidationError, fields

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
from app.core.converters import MAX_ROW_ID
from app.team import users as services
from app.team.users import LOCATION_SCOPES, MAX_IDS, STATUSES, USER_LIST

blp = Blueprint("api_users", __name__, url_prefix="/users",
                description="Staff users: the people of the business who may sign in. Commission agents are left out.")


class Computed(fields.Nested):
    """An object computed from the user (documented as the nested schema)."""

    def __init__(self, nested, getter, **kwargs):
        super().__init__(nested, dump_only=True, **kwargs)
        self.getter = getter

    def get_value(self, obj, attr, accessor=None, default=None):
        return self.getter(obj)


def _role_name(user):
    return user.role.display_name if user.role is not None else None


class UserListItemSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(allow_none=True, required=True, metadata={"description": "Login username when login is enabled."})
    email = fields.String(allow_none=True, required=True)
    full_name = fields.String(required=True, metadata={"description": "Surname, first and last name."})
    contact_number = fields.String(allow_none=True, required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    allow_login = fields.Boolean(required=True)
    role_name = fields.Function(_role_name, allow_none=True, required=True,
                                metadata={"type": "string", "description": "Current role display name."})
    created_at = UtcDateTime(allow_none=True, required=True)


class PermittedLocationsSchema(Schema):
    scope = fields.String(required=True, metadata={"enum": list(LOCATION_SCOPES)})
    location_ids = fields.List(fields.Integer(), allow_none=True, required=True,
                               metadata={"description": "Location ids when the scope is locations, else null."})


class ContactAccessSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class UserDetailSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(allow_none=True, required=True)
    surname = fields.String(allow_none=True, required=True)
    first_name = fields.String(allow_none=True, required=True)
    last_name = fields.String(allow_none=True, required=True)
    full_name = fields.String(required=True, metadata={"description": "Surname, first and last name."})
    email = fields.String(allow_none=True, required=True)
    contact_number = fields.String(allow_none=True, required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    allow_login = fields.Boolean(required=True)
    language = fields.String(allow_none=True, required=True)
    role_id = fields.Integer(allow_none=True, required=True)
    role_name = fields.Function(_role_name, allow_none=True, required=True,
                                metadata={"type": "string", "description": "Current role display name."})
    selected_contacts = fields.Boolean(required=True,
                                       metadata={"description": "Whether the user is limited to selected contacts."})
    contact_access = fields.Function(services.contact_access, required=True, metadata={
        "type": "array", "items": {"type": "object", "required": ["id", "name"],
                                   "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "description": "Allowed contacts, each with id and name."})
    permitted_locations = Computed(
        PermittedLocationsSchema, lambda user: {"scope": user.location_scope, "location_ids": services.location_ids(user)},
        required=True)
    created_at = UtcDateTime(allow_none=True, required=True)
    updated_at = UtcDateTime(allow_none=True, required=True)


class IdList(fields.List):
    """A list of row ids; anything else is one plain message, not one per item."""

    def __init__(self, **kwargs):
        super().__init__(fields.Integer(validate=None), allow_none=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        label = (self.name or "ids").replace("_", " ")
        if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
            raise ValidationError(f"The {label} must be an array of ids.")
        if len(value) > MAX_IDS:
            raise ValidationError(f"The {label} may not have more than {MAX_IDS} items.")
        return list(value)


def _ids(description: str):
    return IdList(metadata={"description": description, "maxItems": MAX_IDS,
                            "items": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}})


class LocationAccessSchema(ApiSchema):
    scope = fields.String(required=True, metadata={"enum": list(LOCATION_SCOPES), "description": "all or locations."},
                          error_messages={"required": "The location access.scope field is required."})
    location_ids = _ids("Required when the scope is locations; every id must be a location of the business.")


def _text(max_length: int, **kwargs):
    return fields.String(allow_none=True, validate=length(max_length), **kwargs)


class UserUpdateSchema(ApiSchema):
    """PUT and PATCH alike (seed 002): role and location_access are required and replaced;
    the other fields change when sent and keep their values when left out."""

    role = fields.Integer(required=True, strict=True, metadata={"description": "A role id of the business."})
    location_access = fields.Nested(LocationAccessSchema, required=True)
    surname = _text(30)
    first_name = fields.String(validate=length(120, minimum=1))
    last_name = _text(120)
    email = _text(191, metadata={"description": "An e-mail address."})
    contact_number = _text(40)
    allow_login = fields.Boolean(metadata={"description": "false clears the username and password and signs the"
                                                          " user out."})
    username = _text(120, metadata={"description": "Blank with login enabled: one is generated."})
    password = fields.String(allow_none=True, load_only=True, validate=length(255),
                             metadata={"description": "At least 6 characters, and only your own (required to"
                                                      " enable your own login if you have none). Another user's"
                                                      " password is never set (403), not even a first one:"
                                                      " enable their login without one, then send them a reset"
                                                      " link (POST /users/{id}/password-reset)."})
    is_active = fields.Boolean(metadata={"description": "The user's status: active or inactive."})
    selected_contacts = fields.Boolean(metadata={"description": "Limit the user to the selected contacts."})
    selected_contact_ids = _ids("Replaces the selected contacts (contacts of the business).")


class UserCreateSchema(UserUpdateSchema):
    first_name = fields.String(required=True, validate=length(120, minimum=1))
    allow_login = fields.Boolean(metadata={"description": "Whether the user may sign in. Defaults to false."})
    password = fields.String(allow_none=True, load_only=True, validate=length(255),
                             metadata={"description": "Required when allow_login is true; at least 6 characters."})
    is_active = fields.Boolean(metadata={"description": "Defaults to true."})


@blp.get("")
@blp.arguments(USER_LIST.args_schema(), location="query", as_kwargs=False)
@blp.response(200, list_envelope(UserListItemSchema))
@blp.forbidden_unless_permitted
def list_users(params):
    """List staff users (commission agents are not listed). Needs `user.view` or `user.create`."""
    actor = current_actor()
    return list_answer(params, UserListItemSchema, lambda: services.list_users(actor, params),
                       lambda: services.all_users(actor, params), "users")


@blp.post("")
@blp.idempotent
@blp.arguments(UserCreateSchema)
@blp.response(201, envelope(UserDetailSchema))
@blp.alt_response(402, response="PAYMENT_REQUIRED")
@blp.forbidden_unless_permitted
def create_user(data):
    """Create a staff user. Needs `user.create`; the role and access given must hold nothing you lack (403).

    403 in demo mode; 402 when the business must subscribe and has not; 422 when the
    user quota is used up, and for invalid fields, roles, locations or contacts.
    """
    user = services.create_user(current_actor(), data)
    body, status = object_answer(user, UserDetailSchema, status=201)
    return body, status, {"Location": url_for("api_users.get_user", user_id=user.id)}


@blp.get("/<id:user_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(UserDetailSchema))
@blp.forbidden_unless_permitted
def get_user(args, user_id):
    """One staff user (`format=csv`: one row with a data_json column). Needs `user.view`."""
    user = services.get_user(current_actor(), user_id)
    return object_answer(user, UserDetailSchema, args["format"], f"user-{user_id}")


def _updated(data, user_id):
    return object_answer(services.update_user(current_actor(), user_id, data), UserDetailSchema)


@blp.put("/<id:user_id>")
@blp.idempotent
@blp.arguments(UserUpdateSchema)
@blp.response(200, envelope(UserDetailSchema))
@blp.alt_response(402, response="PAYMENT_REQUIRED")
@blp.forbidden_unless_permitted
def replace_user(data, user_id):
    """Update a staff user: role and location access are replaced; fields left out keep their values.
    Needs `user.update`, plus `user.assign_role` to change the role and `user.access` to change
    location or contact access. The last admin cannot lose the Admin role (422).

    403 when the user, the new role or the new access holds anything you lack, for the
    owner's account (only the owner changes it), and for another user's password."""
    return _updated(data, user_id)


@blp.patch("/<id:user_id>")
@blp.idempotent
@blp.arguments(UserUpdateSchema)
@blp.response(200, envelope(UserDetailSchema))
@blp.alt_response(402, response="PAYMENT_REQUIRED")
@blp.forbidden_unless_permitted
def update_user(data, user_id):
    """Update a staff user, as PUT does (seed 002). Needs `user.update`."""
    return _updated(data, user_id)


@blp.delete("/<id:user_id>")
@blp.response(200, message_envelope(DeletedSchema))
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.forbidden_unless_permitted
def delete_user(user_id):
    """Delete a staff user (a soft delete). Needs `user.delete`; deleting yourself is a 422."""
    user = services.delete_user(current_actor(), user_id)
    return {"message": "Deleted", "data": {"id": user.id}}


class PasswordResetSentSchema(Schema):
    message = fields.String(required=True)


@blp.post("/<id:user_id>/password-reset")
@blp.response(202, PasswordResetSentSchema)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.forbidden_unless_permitted
def send_password_reset(user_id):
    """Mail the user a link to choose a new password. Needs `user.reset_password`, and a user
    holding nothing you lack (403). 422 when the user cannot sign in or has no e-mail."""
    user = services.send_password_reset_link(
        current_actor(), user_id, lambda token: url_for("auth.reset_password", token=token, _external=True))
    return {"message": f"A link to reset the password was sent to {user.email}."}, 202
