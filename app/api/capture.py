"""Lead capture: /api/v1/capture-forms (admin), /api/v1/lead-webhook-secret (admin), and the
public endpoints /api/v1/public/leads[/{key}] and /api/v1/public/webhooks/leads.

The public endpoints take no credential. A capture form's key names the business; the
webhook's X-Webhook-Secret does. They are limited per client IP (10 and 30 a minute), in
buckets of their own, not the API's shared public one.
"""
import secrets

from flask import current_app, g, make_response, render_template_string, request, url_for
from flask_limiter.util import get_remote_address
from marshmallow import INCLUDE, Schema, fields, post_load
from werkzeug.exceptions import NotAcceptable, UnsupportedMediaType

from app.api.base import (
    BODY_METHODS,
    Blueprint,
    check_content_negotiation,
    current_actor,
    if_match_version,
    list_answer,
    object_answer,
)
from app.api.leads import LeadOwnerSchema
from app.api.schemas import ApiSchema, FormatArgs, UtcDateTime, envelope, length, list_envelope
from app.core.errors import NotFound, Unauthenticated, ValidationFailed
from app.core.listing import flatten_errors
from app.extensions import limiter
from app.pipelines import capture as services
from app.pipelines.capture import CAPTURE_FORM_LIST

blp = Blueprint("api_capture_forms", __name__, url_prefix="/capture-forms",
                description="Lead-capture forms: where publicly captured leads go and who may post them.")
secret_blp = Blueprint("api_lead_webhook_secret", __name__, url_prefix="/lead-webhook-secret",
                       description="The business's inbound lead webhook secret (X-Webhook-Secret).")
public_blp = Blueprint("api_public_leads", __name__, url_prefix="/public", public=True,
                       description="Public lead capture (no credential): a capture form's key, or the webhook secret.")

CAPTURED_MESSAGE = "Lead captured successfully."
CAPTURE_LIMIT_DEFAULT = "10/minute"
WEBHOOK_LIMIT_DEFAULT = "30/minute"
CORS_MAX_AGE = "600"


# --- capture forms ---------------------------------------------------------------------------


class NamedRefSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class CaptureFormSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    key = fields.String(required=True, metadata={"description": "Public: it goes into the embedding page."})
    endpoint = fields.Method("_endpoint", required=True, metadata={"description": "Where the form posts."})
    pipeline_id = fields.Integer(allow_none=True, required=True)
    pipeline = fields.Nested(NamedRefSchema, allow_none=True, required=True)
    stage_id = fields.Integer(allow_none=True, required=True)
    stage = fields.Nested(NamedRefSchema, allow_none=True, required=True)
    owner_id = fields.Integer(allow_none=True, required=True)
    owner = fields.Nested(LeadOwnerSchema, allow_none=True, required=True)
    allowed_origins = fields.List(fields.String(), required=True)
    honeypot_field = fields.String(required=True)
    is_active = fields.Boolean(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)

    def _endpoint(self, form) -> str:
        return url_for("api_public_leads.capture_with_key", key=form.key, _external=True)


class CaptureFormPatchSchema(ApiSchema):
    name = fields.String(validate=length(120, minimum=1))
    pipeline_id = fields.Integer(allow_none=True, metadata={"description": "Default pipeline for converting."})
    stage_id = fields.Integer(allow_none=True, metadata={"description": "A stage of that pipeline."})
    owner_id = fields.Integer(allow_none=True, metadata={"description": "Who owns the captured leads."})
    allowed_origins = fields.List(fields.String(validate=length(300)), allow_none=True, metadata={
        "description": "Browser origins allowed to post (CORS), e.g. https://shop.example or"
                       " https://shop.example:8443."})
    honeypot_field = fields.String(allow_none=True, validate=length(60), metadata={
        "description": "A hidden input bots fill in; a filled one is accepted and dropped. Default website_url."})
    is_active = fields.Boolean(allow_none=True)


class CaptureFormWriteSchema(CaptureFormPatchSchema):
    name = fields.String(required=True, validate=length(120, minimum=1))

    @post_load
    def fill_left_out_fields(self, data, **kwargs):
        return {**dict.fromkeys(self.fields), "allowed_origins": [], "is_active": True, **data}


@blp.get("")
@blp.arguments(CAPTURE_FORM_LIST.args_schema(), location="query", as_kwargs=False)
@blp.response(200, list_envelope(CaptureFormSchema))
@blp.forbidden_unless_permitted
def list_forms(params):
    """List capture forms. Needs `crm.settings`."""
    actor = current_actor()
    return list_answer(params, CaptureFormSchema, lambda: services.list_forms(actor, params),
                       lambda: services.all_forms(actor, params), "capture-forms")


@blp.post("")
@blp.idempotent
@blp.arguments(CaptureFormWriteSchema)
@blp.response(201, envelope(CaptureFormSchema))
@blp.forbidden_unless_permitted
def create_form(data):
    """Create a capture form; its key is generated. Needs `crm.settings`."""
    form = services.create_form(current_actor(), data)
    body, status, headers = object_answer(form, CaptureFormSchema, status=201)
    return body, status, dict(headers, Location=url_for("api_capture_forms.get_form", form_id=form.id))


@blp.get("/<id:form_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(CaptureFormSchema))
@blp.forbidden_unless_permitted
def get_form(args, form_id):
    """One capture form. Needs `crm.settings`."""
    form = services.get_form(current_actor(), form_id)
    return object_answer(form, CaptureFormSchema, args["format"], f"capture-form-{form_id}")


@blp.put("/<id:form_id>")
@blp.idempotent
@blp.arguments(CaptureFormWriteSchema)
@blp.response(200, envelope(CaptureFormSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def replace_form(data, form_id):
    """Replace a capture form (the key stays). Needs `crm.settings`."""
    return object_answer(services.update_form(current_actor(), form_id, data, if_match_version()), CaptureFormSchema)


@blp.patch("/<id:form_id>")
@blp.idempotent
@blp.arguments(CaptureFormPatchSchema)
@blp.response(200, envelope(CaptureFormSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def update_form(data, form_id):
    """Update some fields of a capture form. Needs `crm.settings`."""
    return object_answer(services.update_form(current_actor(), form_id, data, if_match_version()), CaptureFormSchema)


@blp.delete("/<id:form_id>")
@blp.response(204)
@blp.forbidden_unless_permitted
@blp.versioned
def delete_form(form_id):
    """Delete a capture form; its key stops working. Needs `crm.settings`."""
    services.delete_form(current_actor(), form_id, if_match_version())


@blp.post("/<id:form_id>/rotate-key")
@blp.response(200, envelope(CaptureFormSchema))
@blp.forbidden_unless_permitted
def rotate_key(form_id):
    """Give the form a new key; the old one stops working at once. Needs `crm.settings`."""
    return object_answer(services.rotate_key(current_actor(), form_id), CaptureFormSchema)


# --- the webhook secret ----------------------------------------------------------------------


class WebhookSecretSchema(Schema):
    configured = fields.Boolean(required=True)
    hint = fields.String(allow_none=True, required=True, metadata={"description": "The secret's last characters."})
    created_at = UtcDateTime(allow_none=True, required=True)
    created_by_id = fields.Integer(allow_none=True, required=True)


class NewWebhookSecretSchema(WebhookSecretSchema):
    secret = fields.String(required=True, metadata={"description": "Shown only this once: store it now."})


def _secret_view(row, plain: str | None = None) -> dict:
    out = {"configured": row is not None, "hint": row.hint if row else None,
           "created_at": row.created_at if row else None, "created_by_id": row.created_by_id if row else None}
    if plain is not None:
        out["secret"] = plain
    return out


@secret_blp.get("")
@secret_blp.response(200, envelope(WebhookSecretSchema))
@secret_blp.forbidden_unless_permitted
def get_webhook_secret():
    """Whether a secret is set, its hint and when it was made (never the secret). Needs `crm.settings`."""
    return {"data": _secret_view(services.get_webhook_secret(current_actor()))}


@secret_blp.post("")
@secret_blp.response(201, envelope(NewWebhookSecretSchema))
@secret_blp.forbidden_unless_permitted
def regenerate_webhook_secret():
    """Make a new secret (the old one stops working); the answer shows it once. Needs `crm.settings`."""
    row, plain = services.regenerate_webhook_secret(current_actor())
    return {"data": _secret_view(row, plain)}, 201


# --- public capture -----------------------------------------------------------------------------


class PublicLeadSchema(ApiSchema):
    """Seed 000's body. Other fields are ignored (a form's honeypot input among them)."""

    class Meta:
        unknown = INCLUDE

    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    name = fields.String(allow_none=True, metadata={"description": "Instead of first_name/last_name: split at the"
                                                                   " first space."})
    email = fields.String(allow_none=True, metadata={"description": "Required unless a name is given. An e-mail"
                                                                    " with an open lead updates that lead."})
    phone = fields.String(allow_none=True)
    company_name = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    utm_source = fields.String(allow_none=True)
    utm_medium = fields.String(allow_none=True)
    utm_campaign = fields.String(allow_none=True)
    utm_term = fields.String(allow_none=True)
    utm_content = fields.String(allow_none=True)


class CapturedLeadSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(allow_none=True, required=True)
    status = fields.String(required=True)


class CapturedSchema(Schema):
    success = fields.Boolean(required=True)
    message = fields.String(required=True)
    data = fields.Nested(CapturedLeadSchema, required=True)


CAPTURE_KEY_HEADER = {"in": "header", "name": "X-Capture-Key", "required": True, "schema": {"type": "string"},
                      "description": "The capture form's key."}
WEBHOOK_SECRET_HEADER = {"in": "header", "name": "X-Webhook-Secret", "required": True,
                         "schema": {"type": "string"}, "description": "The secret from /api/v1/lead-webhook-secret."}


def _capture_limit() -> str:
    return current_app.config.get("LEAD_CAPTURE_RATE_LIMIT", CAPTURE_LIMIT_DEFAULT)


def _webhook_limit() -> str:
    return current_app.config.get("LEAD_WEBHOOK_RATE_LIMIT", WEBHOOK_LIMIT_DEFAULT)


def _per_ip() -> str:
    return f"ip:{get_remote_address()}"


capture_limit = limiter.shared_limit(_capture_limit, scope="lead-capture", key_func=_per_ip, methods=["POST"])
webhook_limit = limiter.shared_limit(_webhook_limit, scope="lead-webhook", key_func=_per_ip, methods=["POST"])


def _accept_form_bodies() -> None:
    """A plain HTML <form> posts form-encoded: take it as well as JSON on the capture routes."""
    if request.method in BODY_METHODS and request.mimetype in ("application/x-www-form-urlencoded",
                                                               "multipart/form-data"):
        if request.headers.get("Accept") and not request.accept_mimetypes.best_match(["application/json",
                                                                                      "text/html"]):
            raise NotAcceptable("This API answers in application/json.")
        return
    if request.method in BODY_METHODS and request.content_length and not request.is_json:
        raise UnsupportedMediaType("Send the request body as application/json (or as an HTML form).")
    check_content_negotiation()


public_blp.before_request_funcs[None].remove(check_content_negotiation)
public_blp.before_request(_accept_form_bodies)


def _body(data: dict) -> dict:
    if request.is_json:
        return data
    values = request.form.to_dict()
    errors = PublicLeadSchema().validate(values)
    if errors:
        raise ValidationFailed(flatten_errors(errors))
    return values


def _captured(lead, email_fallback=None):
    if lead is None:  # a honeypot hit looks like any other success, and nothing is kept
        answer = {"id": secrets.randbelow(900_000) + 1000, "email": email_fallback, "status": "new"}
    else:
        answer = {"id": lead.id, "email": lead.email, "status": lead.status}
    body = {"success": True, "message": CAPTURED_MESSAGE, "data": answer}
    if not request.is_json and request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        return make_response(render_template_string(THANK_YOU_PAGE), 201)
    return body, 201


# A person who posted the plain HTML form (no JavaScript) sees this instead of JSON.
THANK_YOU_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Thank you</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}</style>
</head><body><h1>Thank you!</h1><p>We received your details and will be in touch soon.</p>
<p><a href="javascript:history.back()">Go back</a></p></body></html>"""


def _capture(key: str | None, data: dict):
    form = services.find_active_form(key)
    g.capture_form = form
    body = _body(data)
    lead = services.capture_lead(form, body, request.headers.get("Origin"))
    email = body.get("email") if isinstance(body.get("email"), str) else None
    return _captured(lead, email.strip().lower() if email else None)


@public_blp.post("/leads/<string(maxlength=64):key>")
@public_blp.doc(security=[])
@public_blp.arguments(PublicLeadSchema)
@public_blp.response(201, CapturedSchema)
@capture_limit
def capture_with_key(data, key):
    """Capture a lead through a capture form (the key in the path). No credential; 10 a minute per IP.

    Also takes an HTML form post (`application/x-www-form-urlencoded`). Browsers get CORS
    headers only from the form's allowed origins. An unknown or inactive key is a 404.
    """
    return _capture(key, data)


@public_blp.post("/leads")
@public_blp.doc(security=[], parameters=[CAPTURE_KEY_HEADER])
@public_blp.arguments(PublicLeadSchema)
@public_blp.response(201, CapturedSchema)
@public_blp.alt_response(404, response="NOT_FOUND")
@capture_limit
def capture_with_header(data):
    """Capture a lead through a capture form (the key in `X-Capture-Key`). No credential; 10 a minute per IP."""
    return _capture(request.headers.get("X-Capture-Key"), data)


@public_blp.post("/webhooks/leads")
@public_blp.doc(security=[], parameters=[WEBHOOK_SECRET_HEADER])
@public_blp.arguments(PublicLeadSchema)
@public_blp.response(201, CapturedSchema)
@public_blp.alt_response(401, response="UNAUTHORIZED")
@webhook_limit
def capture_from_webhook(data):
    """Inbound lead webhook (Zapier, Make): seed 000's body, authenticated by `X-Webhook-Secret`. 30 a minute per IP."""
    if services.business_for_webhook_secret(request.headers.get("X-Webhook-Secret")) is None:
        raise Unauthenticated("The X-Webhook-Secret header is missing or wrong.")
    lead = services.capture_webhook_lead(_body(data))
    return _captured(lead)


CAPTURE_ENDPOINTS = {"api_public_leads.capture_with_key", "api_public_leads.capture_with_header"}


@public_blp.after_request
def cors_for_allowed_origins(response):
    """Access-Control-Allow-Origin only for an origin the form allows; nothing otherwise."""
    origin = request.headers.get("Origin")
    if not origin or request.endpoint not in CAPTURE_ENDPOINTS:
        return response
    response.vary.add("Origin")
    if not _origin_allowed(origin):
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Capture-Key"
        response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


def _origin_allowed(origin: str) -> bool:
    form = g.get("capture_form")
    if form is not None:
        return services.form_allows_origin(form, origin)
    key = (request.view_args or {}).get("key")
    if key:
        try:
            return services.form_allows_origin(services.find_active_form(key), origin)
        except NotFound:
            return False
    if request.method == "OPTIONS":  # a preflight carries no X-Capture-Key value, only its name
        return services.origin_allowed_anywhere(origin)
    return False
