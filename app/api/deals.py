"""/api/v1/deals: deals, and moving them between the stages of a pipeline."""
from flask import request, url_for
from marshmallow import Schema, fields, post_load, validate

from app.api.base import Blueprint, current_actor, if_match_version, list_answer, object_answer
from app.api.exports import csv_or_job, documents_export_job
from app.api.schemas import ApiSchema, FormatArgs, UtcDateTime, envelope, length, list_envelope
from app.pipelines import deals as services
from app.pipelines.deals import DEAL_LIST, MAX_ROW_ID
from app.pipelines.models import DEAL_STATUSES

blp = Blueprint("api_deals", __name__, url_prefix="/deals",
                description="Deals on the pipelines' boards. Users without `deals.view_all` see the deals they own."
                            " Filter on a deal custom field with `custom_fields[<key>]=<value>`.")

VALUE_DESCRIPTION = ("Amount as a string (\"1250.00\", or as the business writes amounts: \"1,250.00\", or"
                     " \"1.250,00\" where its number format has a decimal comma; the currency's symbol or code"
                     " may stand before or after it) or a JSON number. 0 or more, at most the currency's decimal"
                     " places (2). Exponents, suffixes such as k, hex and other text are refused, never guessed.")


class Money(fields.String):
    """Output only: a Decimal as a string with 2 decimals."""

    def __init__(self, **kwargs):
        super().__init__(dump_only=True, metadata={"pattern": r"^\d+\.\d{2}$", "example": "1250.00"}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{value:.2f}"


class PersonSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(attribute="full_name", required=True)


class NamedSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class StageSummarySchema(NamedSchema):
    kind = fields.String(required=True)


class DealSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    value = Money(required=True)
    currency = fields.String(required=True)
    pipeline_id = fields.Integer(required=True)
    stage_id = fields.Integer(required=True)
    stage = fields.Nested(StageSummarySchema, required=True)
    position = fields.Integer(required=True, metadata={"description": "Place in its stage's column, 0 on top."})
    status = fields.String(required=True, metadata={"enum": list(DEAL_STATUSES)})
    contact_id = fields.Integer(allow_none=True, required=True)
    contact = fields.Nested(NamedSchema, allow_none=True, required=True)
    account_id = fields.Integer(allow_none=True, required=True)
    account = fields.Nested(NamedSchema, allow_none=True, required=True)
    owner_id = fields.Integer(allow_none=True, required=True)
    owner = fields.Nested(PersonSchema, allow_none=True, required=True)
    commission_agent_id = fields.Integer(allow_none=True, required=True)
    expected_close_date = fields.Date(allow_none=True, required=True)
    lost_reason = fields.String(allow_none=True, required=True)
    stage_entered_at = UtcDateTime(allow_none=True, required=True)
    closed_at = UtcDateTime(allow_none=True, required=True, metadata={"description": "When it was won or lost."})
    won_at = UtcDateTime(allow_none=True, required=True)
    lost_at = UtcDateTime(allow_none=True, required=True)
    custom_fields = fields.Dict(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


def _id(description: str, label: str, **kwargs):
    return fields.Integer(strict=True, allow_none=True, metadata={"description": description},
                          validate=validate.Range(min=1, max=MAX_ROW_ID, error=f"The selected {label} is invalid."),
                          **kwargs)


class DealPatchSchema(ApiSchema):
    """PATCH: the fields sent change; the others keep their values."""

    title = fields.String(validate=length(200, minimum=1))
    value = fields.Raw(metadata={"oneOf": [{"type": "string"}, {"type": "number"}], "description": VALUE_DESCRIPTION})
    currency = fields.String(allow_none=True, validate=length(3),
                             metadata={"description": "ISO 4217; the business's currency when left out."})
    pipeline_id = _id("A pipeline of the business; a new one moves the deal to its first open stage.", "pipeline id")
    stage_id = _id("A stage of the pipeline; a new one puts the deal on top of that column.", "stage id")
    contact_id = _id("A contact the user can see.", "contact id")
    account_id = _id("An account the user can see.", "account id")
    owner_id = _id("A staff user of the business.", "owner id")
    commission_agent_id = _id("A commission agent of the business (seed 002).", "commission agent id")
    expected_close_date = fields.Date(allow_none=True)
    lost_reason = fields.String(allow_none=True, validate=length(500),
                                metadata={"description": "Required when the deal is (or goes) lost."})
    custom_fields = fields.Dict(keys=fields.String(), metadata={"description": "The business's deal fields."})


class DealWriteSchema(DealPatchSchema):
    """POST and PUT: the whole deal. Left out: empty (the default pipeline, its first stage, the
    business currency, the caller as owner on create)."""

    title = fields.String(required=True, validate=length(200, minimum=1))

    @post_load
    def fill_left_out_fields(self, data, **kwargs):
        if request.method == "PUT":
            blank = {"value": None, "contact_id": None, "account_id": None, "commission_agent_id": None,
                     "expected_close_date": None, "currency": None}
            return {**blank, **data}
        return data


class MoveSchema(ApiSchema):
    stage_id = _id("The stage to move to.", "stage id", required=True)
    position = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_ROW_ID,
                                                                   error="The position must be 0 or more."),
                              metadata={"description": "0 (the default) is the top of the column."})
    lost_reason = fields.String(allow_none=True, validate=length(500),
                                metadata={"description": "Required when the stage is a lost stage."})


class LostSchema(ApiSchema):
    lost_reason = fields.String(required=True, validate=length(500, minimum=1))


class DealListQuery(DEAL_LIST.args_schema()):
    owned = fields.Boolean(metadata={"description": "1: only the deals you own (seed 003)."})


@blp.get("")
@blp.arguments(DealListQuery, location="query", as_kwargs=False)
@blp.response(200, list_envelope(DealSchema))
@documents_export_job(blp)
@blp.forbidden_unless_permitted
def list_deals(params):
    """List deals. Needs `deals.view` (own deals) or `deals.view_all`; `format=csv` also `crm.export`
    (over 10,000 rows: 202, an export job)."""
    actor = current_actor()
    if params.format == "csv":
        return csv_or_job("deals")
    custom = services.custom_filters_from(request.args)
    owned = request.args.get("owned", "").strip().lower() in {"1", "true", "yes", "on"}
    return list_answer(params, DealSchema, lambda: services.list_deals(actor, params, custom, owned),
                       lambda: services.all_deals(actor, params, custom, owned), "deals")


@blp.post("")
@blp.idempotent
@blp.arguments(DealWriteSchema)
@blp.response(201, envelope(DealSchema))
@blp.forbidden_unless_permitted
def create_deal(data):
    """Create a deal, on top of its stage's column. Needs `deals.create`."""
    deal = services.create_deal(current_actor(), data)
    body, status, headers = object_answer(deal, DealSchema, status=201)
    return body, status, dict(headers, Location=url_for("api_deals.get_deal", deal_id=deal.id))


@blp.get("/<id:deal_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(DealSchema))
@blp.forbidden_unless_permitted
def get_deal(args, deal_id):
    """One deal (`format=csv` for one row with a data_json column, which also needs `crm.export`)."""
    deal = services.get_deal(current_actor(), deal_id)
    return object_answer(deal, DealSchema, args["format"], f"deal-{deal_id}", spec=DEAL_LIST)


@blp.put("/<id:deal_id>")
@blp.idempotent
@blp.arguments(DealWriteSchema)
@blp.response(200, envelope(DealSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def replace_deal(data, deal_id):
    """Replace a deal: fields left out are emptied (PATCH keeps them). Needs `deals.update`."""
    return object_answer(services.update_deal(current_actor(), deal_id, data, if_match_version()), DealSchema)


@blp.patch("/<id:deal_id>")
@blp.idempotent
@blp.arguments(DealPatchSchema)
@blp.response(200, envelope(DealSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def update_deal(data, deal_id):
    """Update some fields of a deal. Needs `deals.update`."""
    return object_answer(services.update_deal(current_actor(), deal_id, data, if_match_version()), DealSchema)


@blp.delete("/<id:deal_id>")
@blp.response(204)
@blp.forbidden_unless_permitted
@blp.versioned
def delete_deal(deal_id):
    """Delete a deal. Needs `deals.delete`."""
    services.delete_deal(current_actor(), deal_id, if_match_version())


@blp.post("/<id:deal_id>/move-stage")
@blp.idempotent
@blp.arguments(MoveSchema)
@blp.response(200, envelope(DealSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def move_stage(data, deal_id):
    """Move a deal to a stage, at `position` of its column (0 = top). A won stage wins the deal
    (event `deal.won`); a lost stage needs `lost_reason`; an open stage reopens it. Needs `deals.update`."""
    deal = services.move_deal(current_actor(), deal_id, data["stage_id"], data.get("position"),
                              data.get("lost_reason"), if_match_version())
    return object_answer(deal, DealSchema)


@blp.post("/<id:deal_id>/won")
@blp.idempotent
@blp.response(200, envelope(DealSchema))
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.forbidden_unless_permitted
@blp.versioned
def mark_won(deal_id):
    """Mark a deal won: it moves to its pipeline's won stage. Needs `deals.update`."""
    return object_answer(services.mark_won(current_actor(), deal_id, if_match_version()), DealSchema)


@blp.post("/<id:deal_id>/lost")
@blp.idempotent
@blp.arguments(LostSchema)
@blp.response(200, envelope(DealSchema))
@blp.alt_response(409, response="CONFLICT")
@blp.forbidden_unless_permitted
@blp.versioned
def mark_lost(data, deal_id):
    """Mark a deal lost, with a reason: it moves to its pipeline's lost stage. Needs `deals.update`."""
    return object_answer(services.mark_lost(current_actor(), deal_id, data["lost_reason"], if_match_version()),
                         DealSchema)
