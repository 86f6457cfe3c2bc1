"""/api/v1/search: one box over contacts, leads, accounts and deals (full-text, prefix)."""
from marshmallow import EXCLUDE, Schema, fields, validate

from app.api.base import Blueprint, current_actor
from app.api.deals import Money
from app.pipelines import search as services

blp = Blueprint("api_search", __name__, url_prefix="/search",
                description="Search contacts, leads, accounts and deals at once by name, e-mail, phone or company.")


class SearchArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(required=True, validate=[
        validate.Length(min=2, error="The q field must be at least 2 characters."),
        validate.Length(max=200, error="The q field may not be greater than 200 characters."),
    ], metadata={"description": "At least 2 characters. Every word must match the start of a word"
                                " (\"jan smi\" finds Jane Smith); phone numbers match by their digits."})
    limit = fields.Integer(load_default=5, validate=validate.Range(min=1, max=25, error="The limit must be"
                                                                                       " between 1 and 25."),
                           metadata={"description": "At most this many results of each kind (default 5)."})


class OwnerSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, attribute="full_name")


class ContactHitSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    first_name = fields.String(allow_none=True, required=True)
    last_name = fields.String(allow_none=True, required=True)
    email = fields.String(allow_none=True, required=True)
    home_phone = fields.String(allow_none=True, required=True)
    work_phone = fields.String(allow_none=True, required=True)
    mobile_phone = fields.String(allow_none=True, required=True)
    account_id = fields.Integer(allow_none=True, required=True)
    owner_id = fields.Integer(allow_none=True, required=True)


class LeadHitSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    first_name = fields.String(allow_none=True, required=True)
    last_name = fields.String(allow_none=True, required=True)
    email = fields.String(allow_none=True, required=True)
    phone = fields.String(allow_none=True, required=True)
    company_name = fields.String(allow_none=True, required=True)
    status = fields.String(required=True)
    owner_id = fields.Integer(allow_none=True, required=True)


class AccountHitSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    domain = fields.String(allow_none=True, required=True)
    phone = fields.String(allow_none=True, required=True)
    owner_id = fields.Integer(allow_none=True, required=True)


class DealHitSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    value = Money(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True)
    pipeline_id = fields.Integer(required=True)
    stage_id = fields.Integer(required=True)
    owner_id = fields.Integer(allow_none=True, required=True)


class SearchResultsSchema(Schema):
    contacts = fields.List(fields.Nested(ContactHitSchema), required=True)
    leads = fields.List(fields.Nested(LeadHitSchema), required=True)
    accounts = fields.List(fields.Nested(AccountHitSchema), required=True)
    deals = fields.List(fields.Nested(DealHitSchema), required=True)


class SearchAnswerSchema(Schema):
    data = fields.Nested(SearchResultsSchema, required=True)


@blp.get("")
@blp.arguments(SearchArgs, location="query")
@blp.response(200, SearchAnswerSchema)
@blp.forbidden_unless_permitted
def search(args):
    """Search every kind you may see; a kind you have no `<kind>.view` for comes back empty.
    Only records you may see (your own, unless `<kind>.view_all`). Needs the view permission of
    at least one of contacts, leads, accounts, deals."""
    actor = current_actor()
    services.require_any_search(actor)
    return {"data": services.global_search(actor, args["q"], limit_per_kind=args["limit"])}
