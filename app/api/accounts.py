"""/api/v1/accounts: companies the business sells to."""
from flask import url_for
from marshmallow import Schema, fields

from app.api.base import Blueprint, current_actor, if_match_version, list_answer, object_answer
from app.api.contacts import OwnerRefSchema
from app.api.exports import csv_or_job, documents_export_job
from app.api.schemas import ApiSchema, FormatArgs, UtcDateTime, envelope, length, list_envelope
from app.core.csv_export import csv_response
from app.core.exports import require_export
from app.pipelines import accounts as services
from app.pipelines.accounts import ACCOUNT_LIST, TEXT_LIMITS
from app.pipelines.common import custom_field_definitions

blp = Blueprint("api_accounts", __name__, url_prefix="/accounts", description="Accounts: companies you sell to.")

COLUMNS = ("name", "domain", "industry", "phone", "website", "addr1", "addr2", "city", "county", "postcode",
           "country")


def _text_out():
    return fields.String(allow_none=True, required=True)


class AccountSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    domain = _text_out()
    industry = _text_out()
    phone = _text_out()
    website = _text_out()
    addr1 = _text_out()
    addr2 = _text_out()
    city = _text_out()
    county = _text_out()
    postcode = _text_out()
    country = _text_out()
    owner_id = fields.Integer(allow_none=True, required=True)
    owner = fields.Nested(OwnerRefSchema, allow_none=True, required=True)
    custom_fields = fields.Dict(keys=fields.String(), required=True,
                                metadata={"description": "Values of the business's account custom fields by key."})
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


def _text(name: str, **kwargs):
    return fields.String(allow_none=True, validate=length(TEXT_LIMITS[name]), **kwargs)


class AccountPatchSchema(ApiSchema):
    """PATCH: the fields sent change; the others keep their values."""

    name = fields.String(validate=length(200, minimum=1))
    domain = _text("domain", metadata={"description": "acme.com; a URL is reduced to its domain."})
    industry = _text("industry")
    phone = _text("phone")
    website = _text("website", metadata={"description": "A URL; https:// is added when missing."})
    addr1 = _text("addr1")
    addr2 = _text("addr2")
    city = _text("city")
    county = _text("county")
    postcode = _text("postcode")
    country = _text("country")
    owner_id = fields.Integer(allow_none=True, metadata={"description": "A staff user; you when left out on create."})
    custom_fields = fields.Dict(keys=fields.String(), allow_none=True,
                                metadata={"description": "{key: value} of the account custom fields"
                                                         " (GET /api/v1/custom-fields?entity=account)."})


class AccountWriteSchema(AccountPatchSchema):
    """POST and PUT: the whole account. On PUT fields left out are emptied (the owner stays)."""

    name = fields.String(required=True, validate=length(200, minimum=1))


def csv_columns() -> list[str]:
    return (["id", *COLUMNS, "owner_id", "owner_name", "created_at", "updated_at"]
            + [f"cf_{d.key}" for d in custom_field_definitions("account")])


def csv_row(account, schema=AccountSchema()) -> dict:
    row = schema.dump(account)
    row["owner_name"] = (row.pop("owner") or {}).get("name")
    for key, value in (row.pop("custom_fields") or {}).items():
        row[f"cf_{key}"] = value
    return row




@blp.get("")
@blp.arguments(ACCOUNT_LIST.args_schema(), location="query", as_kwargs=False)
@blp.response(200, list_envelope(AccountSchema))
@documents_export_job(blp)
@blp.forbidden_unless_permitted
def list_accounts(params):
    """List accounts you may see. Needs `accounts.view` (own accounts) or `accounts.view_all`.

    Filters: `owner_id` (seed 003 `owner`, `assign`), `owned=1`, `industry`, `domain`, and
    custom fields as `cf[<key>]=<value>`. `format=csv` adds custom fields as `cf_<key>` columns; it needs `crm.export`, and more
    than 10,000 rows answer 202 with an export job (see /exports).
    """
    actor = current_actor()
    if params.format == "csv":
        return csv_or_job("accounts")
    return list_answer(params, AccountSchema, lambda: services.list_accounts(actor, params), None, "accounts")


@blp.post("")
@blp.idempotent
@blp.arguments(AccountWriteSchema)
@blp.response(201, envelope(AccountSchema))
@blp.forbidden_unless_permitted
def create_account(data):
    """Create an account. Needs `accounts.create`."""
    account = services.create_account(current_actor(), data)
    body, status, headers = object_answer(account, AccountSchema, status=201)
    return body, status, dict(headers, Location=url_for("api_accounts.get_account", account_id=account.id))


@blp.get("/<id:account_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(AccountSchema))
@blp.forbidden_unless_permitted
def get_account(args, account_id):
    """One account (`format=csv` for one row, which also needs `crm.export`). Needs `accounts.view`."""
    account = services.get_account(current_actor(), account_id)
    if args["format"] == "csv":
        require_export(current_actor(), ACCOUNT_LIST)  # one row needs what the list's CSV needs
        return csv_response(csv_columns(), [csv_row(account)], f"account-{account_id}.csv")
    return object_answer(account, AccountSchema)


@blp.put("/<id:account_id>")
@blp.idempotent
@blp.arguments(AccountWriteSchema)
@blp.response(200, envelope(AccountSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def replace_account(data, account_id):
    """Replace an account: fields left out are emptied (the owner stays). Needs `accounts.update`."""
    account = services.update_account(current_actor(), account_id, data, if_match_version(), replace=True)
    return object_answer(account, AccountSchema)


@blp.patch("/<id:account_id>")
@blp.idempotent
@blp.arguments(AccountPatchSchema)
@blp.response(200, envelope(AccountSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def update_account(data, account_id):
    """Change some fields of an account. Needs `accounts.update`."""
    account = services.update_account(current_actor(), account_id, data, if_match_version())
    return object_answer(account, AccountSchema)


@blp.delete("/<id:account_id>")
@blp.response(204)
@blp.forbidden_unless_permitted
@blp.versioned
def delete_account(account_id):
    """Delete an account; its contacts and deals stay, unlinked. Needs `accounts.delete`."""
    services.delete_account(current_actor(), account_id, if_match_version())
