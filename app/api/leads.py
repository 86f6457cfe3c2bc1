"""/api/v1/leads: leads (seed 000's CRM table) and POST /leads/{id}/convert."""
from flask import request, url_for
from marshmallow import Schema, fields, post_load, pre_load

from app.api.base import Blueprint, current_actor, if_match_version, list_answer, object_answer
from app.api.exports import csv_or_job, documents_export_job
from app.api.schemas import ApiSchema, FormatArgs, UtcDateTime, envelope, length, list_envelope
from app.pipelines import leads as services
from app.pipelines.contacts import cf_filters_from
from app.pipelines.leads import LEAD_LIST

blp = Blueprint("api_leads", __name__, url_prefix="/leads",
                description="Leads: people who showed interest, before they become contacts.")


class LeadOwnerSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(attribute="full_name", required=True)


class LeadSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, metadata={"description": "First and last name (or the e-mail)."})
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True, metadata={"description": "E.164 when it parses, else as typed."})
    company_name = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    utm_source = fields.String(allow_none=True)
    utm_medium = fields.String(allow_none=True)
    utm_campaign = fields.String(allow_none=True)
    utm_term = fields.String(allow_none=True)
    utm_content = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"description": "new, contacted, qualified, unqualified, converted."})
    owner_id = fields.Integer(allow_none=True, required=True)
    owner = fields.Nested(LeadOwnerSchema, allow_none=True, required=True)
    custom_fields = fields.Dict(required=True)
    capture_form_id = fields.Integer(allow_none=True)
    converted_at = UtcDateTime(allow_none=True)
    converted_by_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True, metadata={"description": "The contact converting produced."})
    account_id = fields.Integer(allow_none=True)
    deal_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


def _text(max_length: int, **kwargs):
    return fields.String(allow_none=True, validate=length(max_length), **kwargs)


TEXT_FIELDS = ("first_name", "last_name", "email", "phone", "company_name", "description", "source",
               "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


class LeadPatchSchema(ApiSchema):
    """PATCH: the fields sent change; the others keep their values."""

    name = _text(241, metadata={"description": "Split into first_name and last_name when those are not sent."})
    first_name = _text(120)
    last_name = _text(120)
    email = _text(191)
    phone = _text(40)
    company_name = _text(200)
    description = _text(5000)
    source = _text(100)
    utm_source = _text(100)
    utm_medium = _text(100)
    utm_campaign = _text(100)
    utm_term = _text(100)
    utm_content = _text(100)
    status = fields.String(metadata={"description": "new, contacted, qualified or unqualified (converted only"
                                                    " through POST /leads/{id}/convert)."})
    owner_id = fields.Integer(allow_none=True, metadata={"description": "A staff user; default: you."})
    custom_fields = fields.Dict(keys=fields.String(), allow_none=True,
                                metadata={"description": "Values of the business's lead custom fields."})


class LeadWriteSchema(LeadPatchSchema):
    """POST and PUT: the whole lead. A text field left out is empty. A name or an e-mail is required."""

    @post_load
    def fill_left_out_fields(self, data, **kwargs):
        return {**dict.fromkeys(TEXT_FIELDS), **data}


class ConvertSchema(ApiSchema):
    @pre_load
    def amount_as_text(self, data, **kwargs):
        value = data.get("deal_value") if hasattr(data, "get") else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            data = {**data, "deal_value": str(value)}
        return data

    contact_id = fields.Integer(allow_none=True, metadata={
        "description": "Link this contact. Default: the contact with the lead's e-mail, else a new one."})
    new_contact = fields.Boolean(load_default=False, metadata={
        "description": "Create a new contact even when one has the lead's e-mail."})
    account_id = fields.Integer(allow_none=True, metadata={
        "description": "Link this account. Default: the account named like the lead's company, else a new one"
                       " (none when the lead has no company)."})
    create_deal = fields.Boolean(load_default=False, metadata={"description": "Also open a deal."})
    deal_title = _text(200, metadata={"description": "Default: the company or the lead's name."})
    deal_value = fields.String(allow_none=True, validate=length(20), metadata={
        "description": "An amount such as \"1250.00\" (a JSON number is taken too); default 0."})
    pipeline_id = fields.Integer(allow_none=True, metadata={
        "description": "Default: the capture form's pipeline, else the default pipeline."})
    stage_id = fields.Integer(allow_none=True, metadata={
        "description": "A stage of that pipeline; default its first open stage."})


@blp.get("")
@blp.arguments(LEAD_LIST.args_schema(), location="query", as_kwargs=False)
@blp.response(200, list_envelope(LeadSchema))
@documents_export_job(blp)
@blp.forbidden_unless_permitted
def list_leads(params):
    """List leads (filters status, owner_id, source, and custom fields as `cf[key]=value`; `format=csv`).
    Needs `leads.view` (own) or `leads.view_all`; `format=csv` also `crm.export` (over 10,000 rows: 202, an export job)."""
    actor = current_actor()
    if params.format == "csv":
        return csv_or_job("leads")
    custom = cf_filters_from(request.args)
    return list_answer(params, LeadSchema, lambda: services.list_leads(actor, params, custom),
                       lambda: services.all_leads(actor, params, custom), "leads")


@blp.post("")
@blp.idempotent
@blp.arguments(LeadWriteSchema)
@blp.response(201, envelope(LeadSchema))
@blp.forbidden_unless_permitted
def create_lead(data):
    """Create a lead (`name` or `first_name`/`last_name`, or at least an `email`). Needs `leads.create`."""
    actor = current_actor()
    lead = services.with_people(services.create_lead(actor, data).id)
    body, status, headers = object_answer(lead, LeadSchema, status=201)
    return body, status, dict(headers, Location=url_for("api_leads.get_lead", lead_id=lead.id))


@blp.get("/<id:lead_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(LeadSchema))
@blp.forbidden_unless_permitted
def get_lead(args, lead_id):
    """One lead (`format=csv` for one row with a data_json column; that also needs `crm.export`). Needs `leads.view`."""
    lead = services.get_lead(current_actor(), lead_id)
    return object_answer(lead, LeadSchema, args["format"], f"lead-{lead_id}", spec=LEAD_LIST)


def _updated(data, lead_id):
    actor = current_actor()
    services.update_lead(actor, lead_id, data, if_match_version())
    return object_answer(services.get_lead(actor, lead_id), LeadSchema)


@blp.put("/<id:lead_id>")
@blp.idempotent
@blp.arguments(LeadWriteSchema)
@blp.response(200, envelope(LeadSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def replace_lead(data, lead_id):
    """Replace a lead: text fields left out are emptied (PATCH keeps them). Needs `leads.update`."""
    return _updated(data, lead_id)


@blp.patch("/<id:lead_id>")
@blp.idempotent
@blp.arguments(LeadPatchSchema)
@blp.response(200, envelope(LeadSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def update_lead(data, lead_id):
    """Update some fields of a lead. Needs `leads.update`."""
    return _updated(data, lead_id)


@blp.delete("/<id:lead_id>")
@blp.response(204)
@blp.forbidden_unless_permitted
@blp.versioned
def delete_lead(lead_id):
    """Delete a lead. Needs `leads.delete`."""
    services.delete_lead(current_actor(), lead_id, if_match_version())


@blp.post("/<id:lead_id>/convert")
@blp.idempotent
@blp.arguments(ConvertSchema)
@blp.response(200, envelope(LeadSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def convert_lead(data, lead_id):
    """Convert a lead into a contact (and account, and optionally a deal). Needs `leads.convert`.

    Links the contact with the lead's e-mail and the account named like its company when
    they exist, else creates them. The answer is the converted lead with `contact_id`,
    `account_id` and `deal_id`. Converting a converted lead is a 409.
    """
    actor = current_actor()
    services.convert_lead_by_id(actor, lead_id, data, if_match_version())
    return object_answer(services.get_lead(actor, lead_id), LeadSchema)
