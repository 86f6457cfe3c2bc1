"""/api/v1/locations: the reference resource of the JSON API."""
from flask import url_for
from marshmallow import Schema, fields, post_load

from app.api.base import Blueprint, current_actor, if_match_version, list_answer, object_answer
from app.api.schemas import ApiSchema, FormatArgs, UtcDateTime, envelope, length, list_envelope
from app.locations import services
from app.locations.services import LOCATION_LIST

blp = Blueprint("api_locations", __name__, url_prefix="/locations", description="Business locations.")


class LocationSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    code = fields.String(allow_none=True)
    landmark = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    zip_code = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    is_active = fields.Boolean(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


def _text(max_length: int, **kwargs):
    return fields.String(allow_none=True, validate=length(max_length), **kwargs)


class LocationPatchSchema(ApiSchema):
    """PATCH: the fields sent change; the others keep their values."""

    name = fields.String(validate=length(120, minimum=1))
    code = _text(40, metadata={"description": "Unique in the business, ignoring case."})
    landmark = _text(200)
    city = _text(100)
    state = _text(100)
    country = _text(100)
    zip_code = _text(20)
    mobile = _text(40)
    email = _text(191, metadata={"description": "An e-mail address."})
    website = _text(191)
    is_active = fields.Boolean()


class LocationWriteSchema(LocationPatchSchema):
    """POST and PUT: the whole location. A field left out is empty (is_active: true)."""

    name = fields.String(required=True, validate=length(120, minimum=1))

    @post_load
    def fill_left_out_fields(self, data, **kwargs):
        # PUT replaces the location, so what is not sent must not survive from before.
        return {**dict.fromkeys(self.fields, None), "is_active": True, **data}


@blp.get("")
@blp.arguments(LOCATION_LIST.args_schema(), location="query", as_kwargs=False)
@blp.response(200, list_envelope(LocationSchema))
@blp.forbidden_unless_permitted
def list_locations(params):
    """List locations. Needs `locations.view`."""
    actor = current_actor()
    return list_answer(params, LocationSchema, lambda: services.list_locations(actor, params),
                       lambda: services.all_locations(actor, params), "locations")


@blp.post("")
@blp.idempotent
@blp.arguments(LocationWriteSchema)
@blp.response(201, envelope(LocationSchema))
@blp.forbidden_unless_permitted
def create_location(data):
    """Create a location. Needs `locations.create`."""
    location = services.create_location(current_actor(), data)
    body, status, headers = object_answer(location, LocationSchema, status=201)
    return body, status, dict(headers, Location=url_for("api_locations.get_location", location_id=location.id))


@blp.get("/<id:location_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(LocationSchema))
@blp.forbidden_unless_permitted
def get_location(args, location_id):
    """One location (`format=csv` for one row with a data_json column). Needs `locations.view`."""
    location = services.get_location(current_actor(), location_id)
    return object_answer(location, LocationSchema, args["format"], f"location-{location_id}")


@blp.put("/<id:location_id>")
@blp.idempotent
@blp.arguments(LocationWriteSchema)
@blp.response(200, envelope(LocationSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def replace_location(data, location_id):
    """Replace a location: fields left out are emptied (PATCH keeps them). Needs `locations.update`."""
    location = services.update_location(current_actor(), location_id, data, if_match_version())
    return object_answer(location, LocationSchema)


@blp.patch("/<id:location_id>")
@blp.idempotent
@blp.arguments(LocationPatchSchema)
@blp.response(200, envelope(LocationSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def update_location(data, location_id):
    """Update some fields of a location. Needs `locations.update`."""
    location = services.update_location(current_actor(), location_id, data, if_match_version())
    return object_answer(location, LocationSchema)


@blp.delete("/<id:location_id>")
@blp.response(204)
@blp.forbidden_unless_permitted
@blp.versioned
def delete_location(location_id):
    """Delete a location. Needs `locations.delete`."""
    services.delete_location(current_actor(), location_id, if_match_version())
