"""/api/v1/audit-log: who changed what and when. Read only: entries are never changed."""
from marshmallow import Schema, fields

from app.api.base import Blueprint, current_actor, list_answer, object_answer
from app.api.schemas import FormatArgs, UtcDateTime, envelope, list_envelope
from app.audit import services
from app.audit.services import AuditLogArgs

blp = Blueprint("api_audit_log", __name__, url_prefix="/audit-log",
                description="Changes to users, commission agents, roles, business settings and locations.")


def _values(description: str):
    return fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True,
                       metadata={"description": description})


class AuditEntrySchema(Schema):
    id = fields.Integer(required=True)
    created_at = UtcDateTime(required=True)
    action = fields.String(required=True, metadata={"enum": ["created", "updated", "deleted"]})
    entity_type = fields.String(required=True, metadata={"description": "user, commission_agent, role, business,"
                                                                        " location, ..."})
    entity_id = fields.Integer(required=True)
    entity_label = fields.String(required=True, allow_none=True,
                                 metadata={"description": "The record's name at the time."})
    user_id = fields.Integer(required=True, allow_none=True, attribute="actor_id",
                             metadata={"description": "Who made the change; null for the system (jobs, CLI)"
                                                      " or a signed-out visitor."})
    user_name = fields.String(required=True, allow_none=True, attribute="actor_name",
                              metadata={"description": "Their name at the time."})
    credential = fields.String(required=True, metadata={"description": "browser, token, ... or system."})
    ip_address = fields.String(required=True, allow_none=True)
    before = _values("The changed fields' old values (secrets as \"[redacted]\"); {} when created.")
    after = _values("The changed fields' new values (secrets as \"[redacted]\"); {} when deleted.")


@blp.get("")
@blp.arguments(AuditLogArgs, location="query", as_kwargs=False)
@blp.response(200, list_envelope(AuditEntrySchema))
@blp.forbidden_unless_permitted
def list_entries(params):
    """The audit log, newest first. Needs `audit.view`."""
    actor = current_actor()
    return list_answer(params, AuditEntrySchema, lambda: services.list_entries(actor, params),
                       lambda: services.all_entries(actor, params), "audit-log")


@blp.get("/<id:entry_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(AuditEntrySchema))
@blp.forbidden_unless_permitted
def get_entry(args, entry_id):
    """One audit entry (`format=csv`: one row with a data_json column). Needs `audit.view`."""
    entry = services.get_entry(current_actor(), entry_id)
    return object_answer(entry, AuditEntrySchema, args["format"], f"audit-entry-{entry_id}")
