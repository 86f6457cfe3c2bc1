"""/api/v1/tokens (public: exchange a password for a token) and /api/v1/me."""
from flask import request, url_for
from marshmallow import Schema, fields

from app.api.base import Blueprint, current_actor
from app.api.schemas import ApiSchema, UtcAwareDateTime, UtcDateTime, envelope, length, list_envelope
from app.auth import tokens as token_service
from app.auth.credentials import current_credential

tokens_blp = Blueprint("api_tokens", __name__, url_prefix="/tokens", public=True,
                       description="Exchange an e-mail and password for an access token.")
me_blp = Blueprint("api_me", __name__, url_prefix="/me", description="The authenticated user and their tokens.")


class TokenRequestSchema(ApiSchema):
    email = fields.String(required=True, validate=length(191, minimum=1))
    password = fields.String(required=True, validate=length(1024, minimum=1), load_only=True)
    device_name = fields.String(required=True, validate=length(120, minimum=1))
    abilities = fields.List(fields.String(validate=length(191, minimum=1)),
                            metadata={"description": "Permission names; default [\"*\"] (all the role allows)."})
    expires_at = UtcAwareDateTime(allow_none=True,
                                  metadata={"description": "ISO-8601 with a time zone; null never expires."})


class NewTokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "`<id>|<secret>`: shown only this once."})


class TokenSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    abilities = fields.List(fields.String(), required=True)
    created_at = UtcDateTime(required=True)
    last_used_at = UtcDateTime(allow_none=True, required=True)
    expires_at = UtcDateTime(allow_none=True, required=True)
    revoked_at = UtcDateTime(allow_none=True, required=True)


class BusinessSummarySchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    slug = fields.String(required=True)
    currency = fields.String(required=True)
    timezone = fields.String(required=True)
    plan = fields.String(required=True)


class MeSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(allow_none=True)
    first_name = fields.String(required=True)
    last_name = fields.String(allow_none=True)
    full_name = fields.String(required=True)
    email = fields.String(allow_none=True)
    role_name = fields.String(allow_none=True, required=True)
    business = fields.Nested(BusinessSummarySchema, required=True)
    abilities = fields.List(fields.String(), required=True,
                            metadata={"description": "What the token allows; [\"*\"] means all the role allows."})
    permissions = fields.List(fields.String(), required=True,
                              metadata={"description": "What this request may do: role permissions narrowed by the abilities."})


@tokens_blp.post("")
@tokens_blp.arguments(TokenRequestSchema)
@tokens_blp.response(201, NewTokenSchema)
@tokens_blp.doc(security=[])
def issue_token(data):
    """Issue a personal access token (Sanctum style). Only its hash is stored.

    Failed attempts are limited per account and per IP address, together with the
    sign-in form (by default 5 a minute per account, 10 per address): past that the
    answer is 429 with `Retry-After`, even for the right password, until the minute moves
    on. An unknown e-mail and a wrong password get the same 422.
    """
    token, plain = token_service.issue_token_for_login(
        data["email"], data["password"], data["device_name"], data.get("abilities"), data.get("expires_at"),
        ip=request.remote_addr,
    )
    return {"token": plain}, 201, {"Location": url_for("api_me.get_token", token_id=token.id)}


@me_blp.get("")
@me_blp.response(200, envelope(MeSchema))
def me():
    """The user behind the credential, their business, and what the credential may do."""
    from app.core.permissions import all_permission_names

    actor = current_actor()
    user = actor.user
    credential = current_credential()
    return {"data": {
        "id": user.id, "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
        "full_name": user.full_name, "email": user.email,
        "role_name": user.role.name_key if user.role else None,
        "business": user.business,
        "abilities": sorted(credential.abilities),
        "permissions": [p for p in all_permission_names() if actor.can(p)],
    }}


@me_blp.get("/tokens")
@me_blp.response(200, list_envelope(TokenSchema))
@me_blp.forbidden_unless_permitted
def my_tokens():
    """Your tokens, newest first (secrets are never shown again). Needs a `*` token or the
    `tokens.manage` ability."""
    from app.core.listing import Page

    actor = current_actor()
    rows = token_service.list_tokens(actor, actor.user.id)
    page = Page(items=rows, total=len(rows), page=1, per_page=max(1, len(rows)))
    link = url_for("api_me.my_tokens", _external=True)
    return {"data": rows, "meta": page.meta(), "links": {"first": link, "last": link, "prev": None, "next": None}}


@me_blp.get("/tokens/<id:token_id>")
@me_blp.response(200, envelope(TokenSchema))
@me_blp.forbidden_unless_permitted
def get_token(token_id):
    """One of your tokens. Needs a `*` token or the `tokens.manage` ability."""
    return {"data": token_service.get_token(current_actor(), token_id)}


@me_blp.delete("/tokens/<id:token_id>")
@me_blp.response(204)
@me_blp.forbidden_unless_permitted
def revoke_token(token_id):
    """Revoke one of your tokens (or, with `user.tokens`, the token of a user holding nothing you
    lack; never the owner's). Needs a `*` token or the `tokens.manage` ability. Works at once."""
    token_service.revoke_token(current_actor(), token_id)
