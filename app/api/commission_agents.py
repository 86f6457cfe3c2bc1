"""/api/v1/commission-agents: sales commission agents (seed 002, Team management)."""
from decimal import Decimal

from flask import url_for
from marshmallow import Schema, fields, validate

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
from app.core.csv_export import csv_response
from app.core.money import money_string
from app.team import agents as services
from app.team.agents import AGENT_LIST
from app.team.commissions import STATEMENT_COLUMNS, commission_statement, statement_rows

blp = Blueprint("api_commission_agents", __name__, url_prefix="/commission-agents",
                description="Sales commission agents: people paid a commission on sales, who never sign in.")

PERCENT_DESCRIPTION = (
    "Commission percentage, 0 to 100 with at most 2 decimal places. A JSON number, or a string in the"
    " business's number format: \"12.5\" or \"12,5\" (a single comma and no dot is a decimal comma)."
    " Thousands separators are refused."
)


class PercentNumber(fields.Float):
    """Output only: a stored Decimal as a JSON number (12.5, 10), never a string."""

    def __init__(self, **kwargs):
        super().__init__(dump_only=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)


class MoneyString(fields.String):
    """Output only: an amount as a string with two decimals ("1250.00")."""

    def __init__(self, **kwargs):
        super().__init__(dump_only=True, metadata={"example": "1250.00"}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else money_string(value)


def _percent_input(**kwargs):
    """A number or a string; the service parses it with the business's number format."""
    return fields.Raw(metadata={"oneOf": [{"type": "number"}, {"type": "string"}],
                                "description": PERCENT_DESCRIPTION}, **kwargs)


class CommissionAgentListItemSchema(Schema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True, metadata={"description": "Surname, first and last name."})
    email = fields.String(allow_none=True, required=True)
    contact_no = fields.String(attribute="contact_number", allow_none=True, required=True)
    address = fields.String(allow_none=True, required=True)
    cmmsn_percent = PercentNumber(allow_none=True, required=True)
    status = fields.String(required=True, metadata={"enum": list(services.STATUSES)})
    created_at = UtcDateTime(allow_none=True, required=True)


class CommissionAgentDetailSchema(Schema):
    id = fields.Integer(required=True)
    surname = fields.String(allow_none=True, required=True)
    first_name = fields.String(allow_none=True, required=True)
    last_name = fields.String(allow_none=True, required=True)
    full_name = fields.String(required=True, metadata={"description": "Surname, first and last name."})
    email = fields.String(allow_none=True, required=True)
    contact_no = fields.String(attribute="contact_number", allow_none=True, required=True)
    address = fields.String(allow_none=True, required=True)
    cmmsn_percent = PercentNumber(allow_none=True, required=True)
    status = fields.String(required=True, metadata={"enum": list(services.STATUSES)})
    allow_login = fields.Boolean(required=True, metadata={"description": "Always false: agents never sign in."})
    is_commission_agent = fields.Boolean(attribute="is_cmmsn_agnt", required=True)
    created_at = UtcDateTime(allow_none=True, required=True)
    updated_at = UtcDateTime(allow_none=True, required=True)


def _text(max_length: int, **kwargs):
    return fields.String(allow_none=True, validate=length(max_length), **kwargs)


class CommissionAgentCreateSchema(ApiSchema):
    first_name = fields.String(required=True, validate=length(120, minimum=1))
    cmmsn_percent = _percent_input(required=True)
    surname = _text(30)
    last_name = _text(120)
    email = _text(191, metadata={"description": "An e-mail address."})
    contact_no = _text(40)
    address = _text(500)
    language = _text(10, metadata={"description": "Language key; en when left out."})


class CommissionAgentUpdateSchema(ApiSchema):
    """PATCH and PUT alike: the fields sent change; the others keep their values."""

    surname = _text(30)
    first_name = fields.String(validate=length(120, minimum=1))
    last_name = _text(120)
    email = _text(191, metadata={"description": "An e-mail address."})
    contact_no = _text(40)
    address = _text(500)
    cmmsn_percent = _percent_input(allow_none=True)


@blp.get("")
@blp.arguments(AGENT_LIST.args_schema(), location="query", as_kwargs=False)
@blp.response(200, list_envelope(CommissionAgentListItemSchema))
@blp.forbidden_unless_permitted
def list_agents(params):
    """List commission agents. Needs `user.view` or `user.create`."""
    actor = current_actor()
    return list_answer(params, CommissionAgentListItemSchema, lambda: services.list_agents(actor, params),
                       lambda: services.all_agents(actor, params), "commission-agents")


@blp.post("")
@blp.idempotent
@blp.arguments(CommissionAgentCreateSchema)
@blp.response(201, message_envelope(CommissionAgentDetailSchema))
@blp.forbidden_unless_permitted
def create_agent(data):
    """Create a commission agent (login off, status active). Needs `user.create`."""
    agent = services.create_agent(current_actor(), data)
    location = url_for("api_commission_agents.get_agent", agent_id=agent.id)
    return {"message": "Created", "data": agent}, 201, {"Location": location}


@blp.get("/<id:agent_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(CommissionAgentDetailSchema))
@blp.forbidden_unless_permitted
def get_agent(args, agent_id):
    """One commission agent (`format=csv` for one row with a data_json column). Needs `user.view` or `user.create`."""
    agent = services.get_agent(current_actor(), agent_id)
    return object_answer(agent, CommissionAgentDetailSchema, args["format"], f"commission-agent-{agent_id}")


def _updated(data, agent_id):
    agent = services.update_agent(current_actor(), agent_id, data)
    return {"message": "Updated", "data": agent}


@blp.put("/<id:agent_id>")
@blp.idempotent
@blp.arguments(CommissionAgentUpdateSchema)
@blp.response(200, message_envelope(CommissionAgentDetailSchema))
@blp.forbidden_unless_permitted
def replace_agent(data, agent_id):
    """Update a commission agent; like PATCH, fields left out keep their values. Needs `user.update`."""
    return _updated(data, agent_id)


@blp.patch("/<id:agent_id>")
@blp.idempotent
@blp.arguments(CommissionAgentUpdateSchema)
@blp.response(200, message_envelope(CommissionAgentDetailSchema))
@blp.forbidden_unless_permitted
def update_agent(data, agent_id):
    """Update some fields of a commission agent. Needs `user.update`."""
    return _updated(data, agent_id)


@blp.delete("/<id:agent_id>")
@blp.response(200, message_envelope(DeletedSchema))
@blp.forbidden_unless_permitted
def delete_agent(agent_id):
    """Delete a commission agent (a soft delete: it is gone from every answer). Needs `user.delete`."""
    services.delete_agent(current_actor(), agent_id)
    return {"message": "Deleted", "data": {"id": agent_id}}


class StatementArgs(FormatArgs):
    month = fields.String(metadata={"description": "YYYY-MM; the current month (business time zone) when left out.",
                                    "example": "2026-11"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]),
                           metadata={"description": "json (default) or csv: one row per deal."})


class StatementDealSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    contact_id = fields.Integer(allow_none=True, required=True)
    account_id = fields.Integer(allow_none=True, required=True)


class StatementLineSchema(Schema):
    deal = fields.Nested(StatementDealSchema, required=True)
    won_at = UtcDateTime(required=True)
    currency = fields.String(required=True)
    value = MoneyString(required=True)
    commission = MoneyString(required=True)


class StatementTotalSchema(Schema):
    currency = fields.String(required=True)
    value = MoneyString(required=True)
    commission = MoneyString(required=True)


class StatementSchema(Schema):
    agent = fields.Nested(CommissionAgentListItemSchema, required=True)
    month = fields.String(attribute="month_key", required=True, metadata={"example": "2026-11"})
    cmmsn_percent = PercentNumber(attribute="percent", required=True)
    lines = fields.List(fields.Nested(StatementLineSchema), required=True)
    totals = fields.List(fields.Nested(StatementTotalSchema), required=True,
                         metadata={"description": "One total per currency of the deals."})


@blp.get("/<id:agent_id>/statement")
@blp.arguments(StatementArgs, location="query")
@blp.response(200, envelope(StatementSchema))
@blp.forbidden_unless_permitted
def agent_statement(args, agent_id):
    """The agent's commission statement for a month: deals attributed to the agent and won that month,
    with the commission at the agent's percent (each line rounded to the cent; totals per currency).
    `format=csv` gives one row per deal. Needs `user.view` and `deals.view_all`."""
    statement = commission_statement(current_actor(), agent_id, args.get("month"))
    if args["format"] == "csv":
        return csv_response(STATEMENT_COLUMNS, list(statement_rows(statement)),  # built before the commit expires rows
                            f"commission-{agent_id}-{statement.month_key}.csv")
    return {"data": statement}
