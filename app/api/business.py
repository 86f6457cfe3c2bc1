"""/api/v1/business: the settings of the caller's business (seed 002's switches)."""
from marshmallow import Schema, fields, validate

from app.api.base import Blueprint, current_actor, object_answer
from app.api.schemas import ApiSchema, FormatArgs, UtcDateTime, envelope, length
from app.team import business as services
from app.team.business import DECIMAL_SEPARATORS, MAX_USER_QUOTA, NAME_MAX_LENGTH, SUBSCRIPTION_STATUSES

blp = Blueprint("api_business", __name__, url_prefix="/business",
                description="Your business: profile, user quota, subscription and demo switches.")


class BusinessSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    slug = fields.String(required=True)
    currency = fields.String(required=True, metadata={"description": "ISO 4217 code."})
    timezone = fields.String(required=True, metadata={"description": "IANA time zone, e.g. Europe/London."})
    plan = fields.String(required=True)
    user_quota = fields.Integer(required=True, allow_none=True,
                                metadata={"description": "Most staff users allowed; null is unlimited."})
    subscription_status = fields.String(required=True, metadata={"enum": list(SUBSCRIPTION_STATUSES)})
    is_subscribed = fields.Boolean(required=True, metadata={"description": "Status is active or trialing."})
    enforce_subscription = fields.Boolean(
        required=True, metadata={"description": "When true and not subscribed, staff-user writes answer 402."})
    demo_mode = fields.Boolean(required=True, metadata={"description": "When true, staff-user and role writes"
                                                                       " answer 403."})
    decimal_separator = fields.String(required=True, metadata={"enum": list(DECIMAL_SEPARATORS)})
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class BusinessPatchSchema(ApiSchema):
    """PATCH: the fields sent change; the others keep their values."""

    name = fields.String(validate=length(NAME_MAX_LENGTH, minimum=1))
    currency = fields.String(validate=length(3, minimum=1),
                             metadata={"description": "ISO 4217 code such as USD or EUR (any case)."})
    timezone = fields.String(validate=length(64, minimum=1), metadata={"description": "IANA time zone name."})
    user_quota = fields.Integer(
        allow_none=True, strict=True,
        validate=[validate.Range(min=0, error="The user quota must be at least 0."),
                  validate.Range(max=MAX_USER_QUOTA, error=f"The user quota may not be greater than {MAX_USER_QUOTA}.")],
        metadata={"description": "Most staff users allowed; null is unlimited."})
    enforce_subscription = fields.Boolean()
    subscription_status = fields.String(validate=validate.OneOf(SUBSCRIPTION_STATUSES))
    demo_mode = fields.Boolean()
    decimal_separator = fields.String(validate=validate.OneOf(DECIMAL_SEPARATORS))


@blp.get("")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(BusinessSchema))
def get_business(args):
    """Your business's settings (`format=csv`: one row with a data_json column). Any credential may read them."""
    return object_answer(services.get_business(current_actor()), BusinessSchema, args["format"], "business")


@blp.patch("")
@blp.idempotent
@blp.arguments(BusinessPatchSchema)
@blp.response(200, envelope(BusinessSchema))
@blp.forbidden_unless_permitted
def update_business(data):
    """Change some settings. Needs `business.settings` (also allowed in demo mode, so it can be switched off)."""
    return object_answer(services.update_business(current_actor(), data), BusinessSchema)
