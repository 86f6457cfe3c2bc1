"""/api/v1/activities: calls, meetings, tasks, notes and events on CRM records (seed 000, 003)."""
from dataclasses import dataclass, field

from flask import url_for
from marshmallow import EXCLUDE, Schema, fields, post_load, validate

from app.api.base import Blueprint, current_actor, if_match_version, list_answer, object_answer
from app.api.exports import csv_or_job, documents_export_job
from app.api.schemas import ApiSchema, FormatArgs, UtcAwareDateTime, UtcDateTime, envelope, length, list_envelope
from app.core.listing import ListParams
from app.core.models import isoformat
from app.pipelines import activities as services
from app.pipelines.activities import ACTIVITY_LIST, NOTIFY_CHOICES
from app.pipelines.models import ACTIVITY_TYPES, ENTITY_KINDS

blp = Blueprint("api_activities", __name__, url_prefix="/activities",
                description="Activities: calls, meetings, tasks, notes and events on contacts, accounts, leads"
                            " and deals. You see your own, and those on records you can see"
                            " (`activities.view_all`: every one).")


class OwnerSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, attribute="full_name")


class ActivitySchema(Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True, metadata={"enum": list(ACTIVITY_TYPES)})
    subject = fields.String(required=True)
    notes = fields.String(allow_none=True, required=True)
    due_at = UtcDateTime(allow_none=True, required=True)
    starts_at = UtcDateTime(allow_none=True, required=True)
    ends_at = UtcDateTime(allow_none=True, required=True)
    notify = fields.Integer(required=True, metadata={"description": "Hours before to remind: 0 (never) or 24."})
    completed = fields.Boolean(required=True)
    completed_at = UtcDateTime(allow_none=True, required=True)
    activityable_type = fields.String(allow_none=True, required=True, metadata={"enum": list(ENTITY_KINDS)})
    activityable_id = fields.Integer(allow_none=True, required=True)
    owner_id = fields.Integer(allow_none=True, required=True)
    owner = fields.Nested(OwnerSchema, allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class ActivityPatchSchema(ApiSchema):
    """PATCH: the fields sent change; the others keep their values."""

    type = fields.String(validate=validate.OneOf(ACTIVITY_TYPES, error="The selected type is invalid."),
                         metadata={"description": "call, meeting, task, note (default) or event."})
    subject = fields.String(validate=length(200, minimum=1))
    notes = fields.String(allow_none=True, validate=length(10000))
    due_at = UtcAwareDateTime(allow_none=True, metadata={"description": "When a task or call is due."})
    starts_at = UtcAwareDateTime(allow_none=True, metadata={"description": "From (meetings, events)."})
    ends_at = UtcAwareDateTime(allow_none=True, metadata={"description": "To; not before starts_at."})
    notify = fields.Integer(validate=validate.OneOf(NOTIFY_CHOICES, error="The notify must be 0 (never) or 24"
                                                                           " (hours before)."))
    completed = fields.Boolean(metadata={"description": "Sets completed_at when it becomes true, clears it when"
                                                        " false."})
    owner_id = fields.Integer(allow_none=True, metadata={"description": "A staff user; you by default."})
    activityable_type = fields.String(
        allow_none=True, validate=validate.OneOf(ENTITY_KINDS, error="The selected activityable type is invalid."),
        metadata={"description": "The kind of record it belongs to: contact, account, lead or deal."})
    activityable_id = fields.Integer(allow_none=True, metadata={"description": "That record's id; a record you"
                                                                               " can see."})


class ActivityWriteSchema(ActivityPatchSchema):
    """POST and PUT: the whole activity. Fields left out are empty (type: note, notify: 0), except the owner."""

    subject = fields.String(required=True, validate=length(200, minimum=1))

    @post_load
    def fill_left_out_fields(self, data, **kwargs):
        # The owner is kept when left out (on create: you); say owner_id: null to unassign.
        defaults = dict.fromkeys(set(self.fields) - {"owner_id"}, None) | {"type": "note", "notify": 0,
                                                                            "completed": False}
        return defaults | data


class DueWindowArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    due_before = UtcAwareDateTime(metadata={"description": "Only activities due before this time (ISO 8601)."})
    due_after = UtcAwareDateTime(metadata={"description": "Only activities due at or after this time (ISO 8601)."})


@dataclass
class _ParamsWithDueWindow(ListParams):
    """List params whose page links keep due_before/due_after."""

    extra: dict = field(default_factory=dict)

    def query_args(self, **overrides) -> dict:
        return {**self.extra, **super().query_args(**overrides)}


@blp.get("")
@blp.arguments(ACTIVITY_LIST.args_schema(), location="query", as_kwargs=False)
@blp.arguments(DueWindowArgs, location="query", as_kwargs=False)
@blp.response(200, list_envelope(ActivitySchema))
@documents_export_job(blp)
@blp.forbidden_unless_permitted
def list_activities(params, due):
    """List activities, newest first. Filters: `activityable_type` + `activityable_id` (one record's
    activities), `owner_id`, `type`, `completed`, `due_before`, `due_after`. Needs `activities.view`; `format=csv` also `crm.export` (over 10,000
    rows: 202, an export job)."""
    actor = current_actor()
    if params.format == "csv":
        return csv_or_job("activities")
    extra = {k: isoformat(v) for k, v in due.items() if v is not None}
    params = _ParamsWithDueWindow(**vars(params), extra=extra)
    before, after = due.get("due_before"), due.get("due_after")
    return list_answer(params, ActivitySchema, lambda: services.list_activities(actor, params, before, after),
                       lambda: services.all_activities(actor, params, before, after), "activities")


@blp.post("")
@blp.idempotent
@blp.arguments(ActivityWriteSchema)
@blp.response(201, envelope(ActivitySchema))
@blp.forbidden_unless_permitted
def create_activity(data):
    """Log an activity (event `activity.created`). Needs `activities.create`."""
    activity = services.create_activity(current_actor(), data)
    body, status, headers = object_answer(activity, ActivitySchema, status=201)
    return body, status, dict(headers, Location=url_for("api_activities.get_activity", activity_id=activity.id))


@blp.get("/<id:activity_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(ActivitySchema))
@blp.forbidden_unless_permitted
def get_activity(args, activity_id):
    """One activity (`format=csv` for one row with a data_json column; that also needs `crm.export`).
    Needs `activities.view`."""
    activity = services.get_activity(current_actor(), activity_id)
    return object_answer(activity, ActivitySchema, args["format"], f"activity-{activity_id}", spec=ACTIVITY_LIST)


@blp.put("/<id:activity_id>")
@blp.idempotent
@blp.arguments(ActivityWriteSchema)
@blp.response(200, envelope(ActivitySchema))
@blp.forbidden_unless_permitted
@blp.versioned
def replace_activity(data, activity_id):
    """Replace an activity: fields left out are emptied (PATCH keeps them). Needs `activities.update`."""
    activity = services.update_activity(current_actor(), activity_id, data, if_match_version())
    return object_answer(activity, ActivitySchema)


@blp.patch("/<id:activity_id>")
@blp.idempotent
@blp.arguments(ActivityPatchSchema)
@blp.response(200, envelope(ActivitySchema))
@blp.forbidden_unless_permitted
@blp.versioned
def update_activity(data, activity_id):
    """Update some fields of an activity, e.g. `{"completed": true}`. Needs `activities.update`."""
    activity = services.update_activity(current_actor(), activity_id, data, if_match_version())
    return object_answer(activity, ActivitySchema)


@blp.delete("/<id:activity_id>")
@blp.response(204)
@blp.forbidden_unless_permitted
@blp.versioned
def delete_activity(activity_id):
    """Delete an activity. Needs `activities.delete`."""
    services.delete_activity(current_actor(), activity_id, if_match_version())
