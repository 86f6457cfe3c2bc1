"""Public lead capture: capture forms, capturing a lead, and the inbound webhook secret.

A capture form's key is public (it sits in the embedding page) and names the business;
the webhook secret is private, shown once, and only its SHA-256 is kept.
"""
import hashlib
import hmac
import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.core.concurrency import check_version
from app.core.errors import NotFound, ValidationFailed
from app.core.listing import Filter, ListParams, ListSpec, fetch_page, iter_rows
from app.core.models import utcnow
from app.core.permissions import Actor, require
from app.core.tenancy import set_current_business
from app.extensions import db
from app.pipelines.leads import OPEN_STATUSES, check_owner_id, clean_lead_values, is_row_id, record_lead_created
from app.pipelines.models import CaptureForm, Lead, LeadWebhookSecret, Pipeline, Stage

# An origin as a browser sends it: scheme, host and an optional port, nothing else.
ORIGIN_PATTERN = re.compile(
    r"https://(?=.{1,253}(:|$))([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
    r"(:(6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3}))?"
)
HONEYPOT_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,59}")
# The public body: seed 000's fields plus the UTM ones. Anything else is ignored.
PUBLIC_FIELDS = ("first_name", "last_name", "name", "email", "phone", "company_name", "description", "source",
                 "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
FORM_FIELDS = ("name", "pipeline_id", "stage_id", "owner_id", "allowed_origins", "honeypot_field", "is_active")
MAX_ORIGINS = 20

CAPTURE_FORM_LIST = ListSpec(
    name="CaptureForm",
    sorts={"name": CaptureForm.name, "created_at": CaptureForm.created_at},
    default_sort="name",
    search=(CaptureForm.name,),
    filters={"is_active": Filter(CaptureForm.is_active, kind="bool", description="1/0 or true/false.")},
)


def new_form_key() -> str:
    return secrets.token_urlsafe(24)


# --- capture forms (crm.settings) -------------------------------------------------------


def _forms():
    return select(CaptureForm).options(selectinload(CaptureForm.pipeline), selectinload(CaptureForm.stage),
                                       selectinload(CaptureForm.owner))


def list_forms(actor: Actor, params: ListParams):
    require(actor, "crm.settings")
    return fetch_page(_forms(), CAPTURE_FORM_LIST, params)


def all_forms(actor: Actor, params: ListParams):
    require(actor, "crm.settings")
    return iter_rows(_forms(), CAPTURE_FORM_LIST, params)


def get_form(actor: Actor, form_id: int) -> CaptureForm:
    require(actor, "crm.settings")
    form = db.session.scalar(_forms().where(CaptureForm.id == form_id))
    if form is None:
        raise NotFound()
    return form


def normalize_origin(value) -> str | None:
    """"HTTPS://Shop.Example/" -> "https://shop.example"; None when it is no https origin."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower().rstrip("/")
    if text.endswith(":443"):
        text = text[:-4]
    return text if ORIGIN_PATTERN.fullmatch(text) else None


def _clean_form(data: dict, form: CaptureForm | None) -> dict:
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items() if k in FORM_FIELDS}
    errors: dict[str, list[str]] = {}
    if (form is None or "name" in values) and not values.get("name"):
        errors["name"] = ["The name field is required."]
    elif values.get("name") and len(values["name"]) > 120:
        errors["name"] = ["The name may not be greater than 120 characters."]
    if "allowed_origins" in values:
        values["allowed_origins"] = _clean_origins(values["allowed_origins"], errors)
    if "honeypot_field" in values:
        honeypot = values["honeypot_field"] or "website_url"
        if not HONEYPOT_PATTERN.fullmatch(honeypot):
            errors["honeypot_field"] = ["The honeypot field must be a field name: letters, digits, _ and -."]
        elif honeypot in PUBLIC_FIELDS:
            errors["honeypot_field"] = ["The honeypot field must not be one of the lead's own fields."]
        values["honeypot_field"] = honeypot
    if "owner_id" in values:
        check_owner_id(values["owner_id"], errors)
    _check_pipeline_and_stage(values, form, errors)
    if errors:
        raise ValidationFailed(errors)
    return values


def _clean_origins(raw, errors: dict) -> list[str]:
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        raw = [line for line in re.split(r"[\s,]+", raw) if line]
    if not isinstance(raw, list):
        errors["allowed_origins"] = ["The allowed origins must be an array."]
        return []
    origins = []
    for index, value in enumerate(raw):
        origin = normalize_origin(value)
        if origin is None:
            errors[f"allowed_origins.{index}"] = [
                "Each allowed origin must look like https://example.com (optionally with a :port, no path)."]
        elif origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        errors["allowed_origins"] = [f"The allowed origins may not have more than {MAX_ORIGINS} items."]
    return origins


def _check_pipeline_and_stage(values: dict, form: CaptureForm | None, errors: dict) -> None:
    if "pipeline_id" not in values and "stage_id" not in values:
        return
    pipeline_id = values.get("pipeline_id", form.pipeline_id if form else None)
    stage_id = values.get("stage_id", form.stage_id if form and "pipeline_id" not in values else None)
    values["pipeline_id"], values["stage_id"] = pipeline_id, stage_id
    pipeline = db.session.get(Pipeline, pipeline_id) if is_row_id(pipeline_id) else None
    if pipeline_id is not None and pipeline is None:
        errors["pipeline_id"] = ["The selected pipeline id is invalid."]
        return
    if stage_id is None:
        return
    stage = db.session.get(Stage, stage_id) if is_row_id(stage_id) else None
    if stage is None:
        errors["stage_id"] = ["The selected stage id is invalid."]
    elif pipeline is None:
        errors["pipeline_id"] = ["The pipeline id field is required when stage id is present."]
    elif stage.pipeline_id != pipeline.id:
        errors["stage_id"] = ["The selected stage does not belong to the pipeline."]


def create_form(actor: Actor, data: dict) -> CaptureForm:
    require(actor, "crm.settings")
    values = {"allowed_origins": [], "honeypot_field": "website_url", "is_active": True,
              **{k: v for k, v in _clean_form(data, None).items() if v is not None}}
    form = CaptureForm(key=new_form_key(), **values)
    db.session.add(form)
    db.session.flush()
    return get_form(actor, form.id)


def update_form(actor: Actor, form_id: int, data: dict, expected_version: int | None = None) -> CaptureForm:
    form = get_form(actor, form_id)
    check_version(form, expected_version)
    for key, value in _clean_form(data, form).items():
        if key == "is_active" and value is None:
            value = True
        if key == "honeypot_field" and value is None:
            value = "website_url"
        setattr(form, key, value)
    db.session.flush()
    db.session.expire(form, ["pipeline", "stage", "owner"])
    return get_form(actor, form_id)


def rotate_key(actor: Actor, form_id: int) -> CaptureForm:
    """A new key; the old one stops working at once (pages embedding it must be updated)."""
    form = get_form(actor, form_id)
    form.key = new_form_key()
    db.session.flush()
    return form


def delete_form(actor: Actor, form_id: int, expected_version: int | None = None) -> None:
    form = get_form(actor, form_id)
    check_version(form, expected_version)
    db.session.delete(form)
    db.session.flush()


# --- capturing (public) -------------------------------------------------------------------


def find_active_form(key: str | None) -> CaptureForm:
    """The active form with this key, from any business, made the current business; else 404."""
    if not key or len(key) > 64:
        raise NotFound()
    stmt = select(CaptureForm).where(CaptureForm.key == key, CaptureForm.is_active.is_(True))
    form = db.session.scalar(stmt.execution_options(all_tenants=True))
    if form is None:
        raise NotFound()
    set_current_business(form.business_id)
    return form


def origin_allowed_anywhere(origin: str | None) -> bool:
    """Does any active form allow `origin`? (A preflight names no key, only its header.)"""
    origin = normalize_origin(origin)
    if origin is None:
        return False
    stmt = select(CaptureForm.allowed_origins).where(CaptureForm.is_active.is_(True))
    return any(origin in (origins or []) for origins in db.session.scalars(stmt.execution_options(all_tenants=True)))


def form_allows_origin(form: CaptureForm, origin: str | None) -> bool:
    origin = normalize_origin(origin)
    return origin is not None and origin in (form.allowed_origins or [])


def is_honeypot_hit(form: CaptureForm, data: dict) -> bool:
    value = data.get(form.honeypot_field or "website_url")
    return bool(value.strip() if isinstance(value, str) else value)


def capture_lead(form: CaptureForm, data: dict, origin: str | None = None) -> Lead | None:
    """A lead from the public form. None for a honeypot hit: nothing is stored.

    `origin` is the browser's Origin header; the answer's CORS headers use it, the
    capture itself does not (a server-side post has none, and the key already decides).
    """
    if is_honeypot_hit(form, data):
        return None
    return _capture(data, default_source="web-form", owner_id=form.owner_id, capture_form_id=form.id)


def capture_webhook_lead(data: dict) -> Lead:
    return _capture(data, default_source="webhook", owner_id=None, capture_form_id=None)


def _capture(data: dict, default_source: str, owner_id: int | None, capture_form_id: int | None) -> Lead:
    body = {k: data[k] for k in PUBLIC_FIELDS if k in data}
    errors = {k: ["The " + k.replace("_", " ") + " must be a string."]
              for k, v in body.items() if v is not None and not isinstance(v, str)}
    if errors:
        raise ValidationFailed(errors)
    # Custom fields are for staff to fill in: a required one must not block every capture.
    values = clean_lead_values(body, None, with_custom_fields=False)
    values.setdefault("source", None)
    values["source"] = values["source"] or default_source
    existing = _open_lead_with_email(values.get("email"))
    if existing is not None:
        # The same person again: fill in what they told us now, keep what we had.
        for key, value in values.items():
            if value is not None:
                setattr(existing, key, value)
        db.session.flush()
        return existing
    lead = Lead(status="new", owner_id=owner_id, capture_form_id=capture_form_id, custom_fields={}, **values)
    db.session.add(lead)
    db.session.flush()
    record_lead_created(lead)
    return lead


def _open_lead_with_email(email: str | None) -> Lead | None:
    if not email:
        return None
    stmt = (select(Lead).where(func.lower(Lead.email) == email.lower(), Lead.status.in_(OPEN_STATUSES))
            .order_by(Lead.id.desc()).limit(1))
    return db.session.scalar(stmt)


# --- the inbound webhook secret -------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def get_webhook_secret(actor: Actor) -> LeadWebhookSecret | None:
    require(actor, "crm.settings")
    return db.session.scalar(select(LeadWebhookSecret))


def regenerate_webhook_secret(actor: Actor) -> tuple[LeadWebhookSecret, str]:
    """A new secret (the old one stops working); the plain value is returned only now."""
    require(actor, "crm.settings")
    plain = "whsec_" + secrets.token_urlsafe(32)
    row = db.session.scalar(select(LeadWebhookSecret))
    if row is None:
        row = LeadWebhookSecret()
        db.session.add(row)
    row.secret_hash = _digest(plain)
    row.hint = plain[-4:]
    row.created_by_id = actor.user.id
    row.created_at = utcnow()
    db.session.flush()
    return row, plain


def business_for_webhook_secret(secret: str | None) -> int | None:
    """The business whose secret this is, made current; None for a missing or wrong one."""
    if not secret or len(secret) > 200:
        return None
    digest = _digest(secret)
    stmt = select(LeadWebhookSecret).where(LeadWebhookSecret.secret_hash == digest)
    row = db.session.scalar(stmt.execution_options(all_tenants=True))
    if row is None or not hmac.compare_digest(row.secret_hash, digest):
        return None
    set_current_business(row.business_id)
    return row.business_id
