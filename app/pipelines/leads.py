"""Lead rules and writes: create, update, delete, bulk actions, and converting a lead.

Every read and every write by id goes through `access.visible/find_visible`, so a user
without `leads.view_all` only ever touches the leads they own.
"""
from decimal import Decimal

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.core.concurrency import check_version
from app.core.converters import MAX_ROW_ID
from app.core.errors import Conflict, ValidationFailed
from app.core.events import record_event
from app.core.listing import Filter, ListParams, ListSpec, fetch_page, iter_rows
from app.core.models import utcnow
from app.core.money import AmountError, parse_money
from app.core.permissions import Actor, require
from app.extensions import db
from app.pipelines.access import find_visible, visible
from app.pipelines.common import check_owner, clean_custom_fields, normalize_phone
from app.pipelines.contacts import custom_field_condition
from app.pipelines.models import LEAD_STATUSES, Account, Contact, Deal, Lead, Pipeline, Stage

TEXT_FIELDS = {
    "first_name": 120, "last_name": 120, "email": 191, "phone": 40, "company_name": 200, "source": 100,
    "utm_source": 100, "utm_medium": 100, "utm_campaign": 100, "utm_term": 100, "utm_content": 100,
}
LONG_TEXT_FIELDS = {"description": 5000}
FIELDS = (*TEXT_FIELDS, *LONG_TEXT_FIELDS, "status", "owner_id", "custom_fields")
# What a person may set; "converted" only comes from convert_lead().
SETTABLE_STATUSES = tuple(s for s in LEAD_STATUSES if s != "converted")
OPEN_STATUSES = SETTABLE_STATUSES

LEAD_LIST = ListSpec(
    name="Lead",
    export_permission="crm.export",
    sorts={"created_at": Lead.created_at, "updated_at": Lead.updated_at, "last_name": Lead.last_name,
           "first_name": Lead.first_name, "email": Lead.email, "company_name": Lead.company_name,
           "status": Lead.status, "source": Lead.source},
    default_sort="-created_at",  # newest first; an explicit sort is ascending unless told
    search=(Lead.first_name, Lead.last_name, Lead.email, Lead.company_name, Lead.phone),
    filters={
        "status": Filter(Lead.status, choices=LEAD_STATUSES),
        "owner_id": Filter(Lead.owner_id, kind="int", description="Leads owned by these user ids."),
        "source": Filter(Lead.source),
    },
)


def is_row_id(value) -> bool:
    """An id a row could have: asking the database about 2**70 is an overflow, not a miss."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID


def check_owner_id(owner_id, errors: dict, field: str = "owner_id") -> None:
    if owner_id not in (None, "") and not is_row_id(owner_id):
        errors[field] = [f"The selected {field.replace('_', ' ')} is invalid."]
    else:
        check_owner(owner_id, errors, field)


# --- reading ---------------------------------------------------------------------------


def _leads(actor: Actor, custom: dict | None = None):
    require(actor, "leads.view", "leads.view_all")
    stmt = visible(select(Lead), Lead, actor, "leads").options(selectinload(Lead.owner))
    for key, value in (custom or {}).items():  # cf[key]=value, typed by the field's definition
        stmt = stmt.where(custom_field_condition(Lead.custom_fields, "lead", key, value))
    return stmt


def list_leads(actor: Actor, params: ListParams, custom: dict | None = None):
    return fetch_page(_leads(actor, custom), LEAD_LIST, params)


def all_leads(actor: Actor, params: ListParams, custom: dict | None = None):
    return iter_rows(_leads(actor, custom), LEAD_LIST, params)


def get_lead(actor: Actor, lead_id: int) -> Lead:
    require(actor, "leads.view", "leads.view_all")
    return find_visible(Lead, lead_id, actor, "leads",
                        options=(selectinload(Lead.owner), selectinload(Lead.converted_by)))


def with_people(lead_id: int) -> Lead:
    """A lead just written, reloaded with its owner (it may be assigned to someone else)."""
    stmt = (select(Lead).where(Lead.id == lead_id)
            .options(selectinload(Lead.owner), selectinload(Lead.converted_by))
            .execution_options(populate_existing=True))
    return db.session.scalar(stmt)


def sources_in_use() -> list[str]:
    """The distinct sources of the business's leads, for the list's filter."""
    stmt = select(Lead.source).where(Lead.source.is_not(None)).group_by(Lead.source).order_by(Lead.source)
    return [s for s in db.session.scalars(stmt) if s]


# --- validation ------------------------------------------------------------------------


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """"Jane van Doe" -> ("Jane", "van Doe"); one word is a first name."""
    parts = (name or "").split(None, 1)
    if not parts:
        return None, None
    return parts[0], (parts[1] if len(parts) > 1 else None)


def clean_lead_values(data: dict, lead: Lead | None, with_custom_fields: bool = True) -> dict:
    """Plain values for a Lead, or ValidationFailed with every field's problem.

    `name` (seed 000) is split into first and last name unless those are given.
    On update (`lead` given) only the keys present change.
    """
    data = dict(data)
    errors: dict[str, list[str]] = {}
    name = data.pop("name", None)
    if isinstance(name, str) and name.strip():
        if len(name.strip()) > 241:
            errors["name"] = ["The name may not be greater than 241 characters."]
        first, last = split_name(name)
        if not (data.get("first_name") or "").strip() and not (data.get("last_name") or "").strip():
            data["first_name"], data["last_name"] = first, last
    values = {}
    for key, value in data.items():
        if key not in FIELDS:
            continue
        if isinstance(value, str):
            value = value.strip() or None
        values[key] = value
    for key, limit in {**TEXT_FIELDS, **LONG_TEXT_FIELDS}.items():
        value = values.get(key)
        if value is not None and not isinstance(value, str):
            errors[key] = [f"The {key.replace('_', ' ')} must be a string."]
        elif value and len(value) > limit:
            errors[key] = [f"The {key.replace('_', ' ')} may not be greater than {limit} characters."]
    if values.get("email") and "email" not in errors:
        try:
            values["email"] = validate_email(values["email"], check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors["email"] = ["The email must be a valid email address."]
    if "phone" in values and "phone" not in errors:
        values["phone"] = normalize_phone(values["phone"])
    _check_status(values, lead, errors)
    if "owner_id" in values:
        check_owner_id(values["owner_id"], errors)
    final = {key: getattr(lead, key) for key in ("first_name", "last_name", "email")} if lead else {}
    final.update({k: values[k] for k in ("first_name", "last_name", "email") if k in values})
    if not any(final.get(k) for k in ("first_name", "last_name", "email")) and "name" not in errors:
        errors["name"] = ["The name field is required when email is not present."]
    if with_custom_fields and ("custom_fields" in values or lead is None):
        try:
            values["custom_fields"] = clean_custom_fields("lead", values.get("custom_fields") or {},
                                                          lead.custom_fields if lead else None)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return values


def _check_status(values: dict, lead: Lead | None, errors: dict) -> None:
    if "status" not in values:
        return
    status = values["status"]
    if status is None and lead is None:
        values.pop("status")
        return
    if lead is not None and lead.status == "converted":
        if status != "converted":
            errors["status"] = ["A converted lead keeps the converted status."]
        return
    if status == "converted":
        errors["status"] = ["A lead becomes converted by converting it, not by setting its status."]
    elif status not in SETTABLE_STATUSES:
        errors["status"] = ["The selected status is invalid."]


# --- writes ----------------------------------------------------------------------------


def create_lead(actor: Actor, data: dict) -> Lead:
    require(actor, "leads.create")
    values = clean_lead_values(data, None)
    values.setdefault("owner_id", actor.user.id)  # the creator owns it unless told otherwise
    values.setdefault("status", "new")
    lead = Lead(**values)
    db.session.add(lead)
    db.session.flush()
    record_lead_created(lead)
    return lead


def record_lead_created(lead: Lead) -> None:
    record_event("lead.created", lead_payload(lead))


def lead_payload(lead: Lead) -> dict:
    return {"id": lead.id, "name": lead.name, "email": lead.email, "phone": lead.phone,
            "company_name": lead.company_name, "source": lead.source, "status": lead.status,
            "owner_id": lead.owner_id, "capture_form_id": lead.capture_form_id}


def update_lead(actor: Actor, lead_id: int, data: dict, expected_version: int | None = None) -> Lead:
    require(actor, "leads.update")
    lead = get_lead(actor, lead_id)
    check_version(lead, expected_version)
    for key, value in clean_lead_values(data, lead).items():
        setattr(lead, key, value)
    db.session.flush()
    return lead


def delete_lead(actor: Actor, lead_id: int, expected_version: int | None = None) -> None:
    require(actor, "leads.delete")
    lead = get_lead(actor, lead_id)
    check_version(lead, expected_version)
    db.session.delete(lead)
    db.session.flush()


def _visible_by_ids(actor: Actor, ids: list[int]) -> list[Lead]:
    if not ids:
        raise ValidationFailed({"ids": ["Select at least one lead."]})
    stmt = visible(select(Lead).where(Lead.id.in_(ids)), Lead, actor, "leads")
    return list(db.session.scalars(stmt))


def bulk_assign(actor: Actor, ids: list[int], owner_id: int | None) -> int:
    require(actor, "leads.update")
    errors: dict = {}
    check_owner_id(owner_id, errors)
    if errors:
        raise ValidationFailed(errors)
    leads = _visible_by_ids(actor, ids)
    for lead in leads:
        lead.owner_id = owner_id
    db.session.flush()
    return len(leads)


def bulk_set_status(actor: Actor, ids: list[int], status: str) -> int:
    require(actor, "leads.update")
    if status not in SETTABLE_STATUSES:
        raise ValidationFailed({"status": ["The selected status is invalid."]})
    leads = [lead for lead in _visible_by_ids(actor, ids) if lead.status != "converted"]
    for lead in leads:
        lead.status = status
    db.session.flush()
    return len(leads)


def bulk_delete(actor: Actor, ids: list[int]) -> int:
    require(actor, "leads.delete")
    leads = _visible_by_ids(actor, ids)
    for lead in leads:
        db.session.delete(lead)
    db.session.flush()
    return len(leads)


def leads_by_ids(actor: Actor, ids: list[int]) -> list[Lead]:
    """The visible leads among `ids` (for exporting a selection), with their owners."""
    require(actor, "leads.view", "leads.view_all")
    stmt = visible(select(Lead).where(Lead.id.in_(ids)), Lead, actor, "leads").options(selectinload(Lead.owner))
    return list(db.session.scalars(stmt.order_by(Lead.id)))


# --- converting ------------------------------------------------------------------------

ALREADY_CONVERTED = "This lead has already been converted."


def matching_contact(lead: Lead) -> Contact | None:
    """The business's contact with the lead's e-mail (what converting links to by default)."""
    if not lead.email:
        return None
    stmt = select(Contact).where(func.lower(Contact.email) == lead.email.lower()).order_by(Contact.id).limit(1)
    return db.session.scalar(stmt)


def matching_account(lead: Lead) -> Account | None:
    if not lead.company_name:
        return None
    stmt = (select(Account).where(func.lower(Account.name) == lead.company_name.strip().lower())
            .order_by(Account.id).limit(1))
    return db.session.scalar(stmt)


def default_pipeline_and_stage(lead: Lead) -> tuple[Pipeline | None, Stage | None]:
    """The capture form's pipeline and stage, else the default pipeline and its first open stage."""
    pipeline = stage = None
    if lead.capture_form_id:
        from app.pipelines.models import CaptureForm

        form = db.session.get(CaptureForm, lead.capture_form_id)
        if form is not None and form.pipeline_id:
            pipeline = db.session.get(Pipeline, form.pipeline_id)
            stage = db.session.get(Stage, form.stage_id) if form.stage_id else None
    if pipeline is None:
        pipeline = db.session.scalar(
            select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.position, Pipeline.id).limit(1))
    if pipeline is not None and (stage is None or stage.pipeline_id != pipeline.id):
        stage = next((s for s in pipeline.stages if s.kind == "open"), None)
    return pipeline, stage


def convert_lead(lead: Lead, actor: Actor, options: dict | None = None) -> Lead:
    """Turn a lead into a contact (+ account, + optional deal) and mark it converted.

    options: contact_id (link that contact; else the contact with the lead's e-mail; else
    a new one; new_contact forces a new one), account_id (link; else the account named like the lead's company; else a
    new one; none without a company), create_deal with deal_title, deal_value,
    pipeline_id, stage_id. Converting twice is a 409.
    """
    require(actor, "leads.convert")
    options = dict(options or {})
    if lead.status == "converted":
        raise Conflict(ALREADY_CONVERTED)
    errors: dict[str, list[str]] = {}
    contact = None if options.get("new_contact") else _contact_for(lead, actor, options.get("contact_id"), errors)
    account = _account_for(lead, actor, options.get("account_id"), errors)
    deal_values = _deal_values(lead, options, actor, errors) if options.get("create_deal") else None
    if errors:
        raise ValidationFailed(errors)
    owner_id = lead.owner_id or actor.user.id
    if account is None and lead.company_name:
        account = Account(name=lead.company_name[:200], owner_id=owner_id, custom_fields={})
        db.session.add(account)
        db.session.flush()
    if contact is None:
        contact = Contact(first_name=lead.first_name, last_name=lead.last_name, email=lead.email,
                          mobile_phone=lead.phone, source=lead.source, notes=lead.description,
                          status="Lead", owner_id=owner_id, custom_fields={},
                          account_id=account.id if account else None)
        db.session.add(contact)
        db.session.flush()
        record_event("contact.created", {"id": contact.id, "name": contact.name, "email": contact.email,
                                         "owner_id": contact.owner_id, "source": "lead_conversion"})
    elif account is not None and contact.account_id is None:
        contact.account_id = account.id
    deal = None
    if deal_values is not None:
        deal = _create_deal(deal_values, contact, account, owner_id, actor)
    lead.status = "converted"
    lead.converted_at = utcnow()
    lead.converted_by_id = actor.user.id
    lead.contact_id = contact.id
    lead.account_id = account.id if account else None
    lead.deal_id = deal.id if deal else None
    db.session.flush()
    record_event("lead.converted", {"id": lead.id, "name": lead.name, "email": lead.email,
                                    "contact_id": lead.contact_id, "account_id": lead.account_id,
                                    "deal_id": lead.deal_id, "converted_by_id": actor.user.id})
    return lead


def convert_lead_by_id(actor: Actor, lead_id: int, options: dict | None = None,
                       expected_version: int | None = None) -> Lead:
    require(actor, "leads.convert")
    lead = get_lead(actor, lead_id)
    check_version(lead, expected_version)
    return convert_lead(lead, actor, options)


def _contact_for(lead: Lead, actor: Actor, contact_id, errors: dict) -> Contact | None:
    if contact_id in (None, ""):
        return matching_contact(lead)
    contact = db.session.scalar(visible(select(Contact).where(Contact.id == contact_id), Contact, actor, "contacts")) \
        if is_row_id(contact_id) else None
    if contact is None:
        errors["contact_id"] = ["The selected contact id is invalid."]
    return contact


def _account_for(lead: Lead, actor: Actor, account_id, errors: dict) -> Account | None:
    if account_id in (None, ""):
        return matching_account(lead)
    account = db.session.scalar(visible(select(Account).where(Account.id == account_id), Account, actor, "accounts")) \
        if is_row_id(account_id) else None
    if account is None:
        errors["account_id"] = ["The selected account id is invalid."]
    return account


def _deal_values(lead: Lead, options: dict, actor: Actor, errors: dict) -> dict:
    pipeline_id, stage_id = options.get("pipeline_id"), options.get("stage_id")
    default_pipeline, default_stage = default_pipeline_and_stage(lead)
    pipeline = db.session.get(Pipeline, pipeline_id) if is_row_id(pipeline_id) else None
    if pipeline_id in (None, ""):
        pipeline = default_pipeline
        if pipeline is None:
            errors["pipeline_id"] = ["The pipeline id field is required to create a deal."]
    elif pipeline is None:
        errors["pipeline_id"] = ["The selected pipeline id is invalid."]
    stage = db.session.get(Stage, stage_id) if is_row_id(stage_id) else None
    if stage_id in (None, ""):
        stage = default_stage if pipeline is default_pipeline else None
        if stage is None and pipeline is not None:
            stage = next((s for s in pipeline.stages if s.kind == "open"), None)
        if stage is None and "pipeline_id" not in errors:
            errors["stage_id"] = ["The stage id field is required to create a deal."]
    elif stage is None:
        errors["stage_id"] = ["The selected stage id is invalid."]
    elif pipeline is not None and stage.pipeline_id != pipeline.id:
        errors["stage_id"] = ["The selected stage does not belong to the pipeline."]
    elif stage.kind == "lost":
        errors["stage_id"] = ["A new deal cannot start in a lost stage."]
    title = options.get("deal_title")
    title = title.strip() if isinstance(title, str) else None
    title = title or (lead.company_name or lead.name or "New deal")
    if len(title) > 200:
        errors["deal_title"] = ["The deal title may not be greater than 200 characters."]
    value = _deal_value(options.get("deal_value"), actor, errors)
    return {"title": title[:200], "value": value, "pipeline": pipeline, "stage": stage}


def _deal_value(raw, actor: Actor, errors: dict) -> Decimal:
    business = actor.user.business
    try:
        value = parse_money(raw, business.decimal_separator, currency=business.currency or "USD", label="deal value")
    except AmountError as exc:
        errors["deal_value"] = [str(exc)]
        return Decimal("0.00")
    return Decimal("0.00") if value is None else value


def _create_deal(values: dict, contact: Contact, account: Account | None, owner_id: int, actor: Actor) -> Deal:
    stage = values["stage"]
    last = db.session.scalar(select(func.max(Deal.position)).where(Deal.stage_id == stage.id))
    now = utcnow()
    deal = Deal(title=values["title"], value=values["value"], currency=actor.user.business.currency or "USD",
                pipeline_id=values["pipeline"].id, stage_id=stage.id, position=(last or 0) + 1,
                contact_id=contact.id, account_id=account.id if account else None, owner_id=owner_id,
                status="won" if stage.kind == "won" else "open", stage_entered_at=now,
                closed_at=now if stage.kind == "won" else None, custom_fields={})
    db.session.add(deal)
    db.session.flush()
    record_event("deal.created", {"id": deal.id, "title": deal.title, "value": f"{deal.value:.2f}",
                                  "currency": deal.currency, "pipeline_id": deal.pipeline_id,
                                  "stage_id": deal.stage_id, "contact_id": deal.contact_id,
                                  "account_id": deal.account_id, "owner_id": deal.owner_id})
    if deal.status == "won":
        record_event("deal.won", {"id": deal.id, "title": deal.title, "value": f"{deal.value:.2f}"})
    return deal


# --- CSV import / export (app.pipelines.imports) ---------------------------------------------

IMPORT_FIELDS = ["first_name", "last_name", "email", "phone", "company_name", "description", "source", "status",
                 "owner_id", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]


def _import_values(data: dict) -> dict:
    """A mapped row (blank cells already left out) as the lead service takes it."""
    values = {k: v for k, v in data.items() if k in IMPORT_FIELDS}
    owner = values.get("owner_id")
    if isinstance(owner, str):
        values["owner_id"] = int(owner) if owner.strip().isdecimal() else owner
    return values


def _find_for_import(actor: Actor, email: str) -> Lead | None:
    stmt = visible(select(Lead).where(func.lower(Lead.email) == email.strip().lower()), Lead, actor, "leads")
    return db.session.scalar(stmt.order_by(Lead.id.desc()).limit(1))


EXPORT_COLUMNS = ["id", *IMPORT_FIELDS, "created_at"]  # id and created_at are read-only


def _export_rows(actor: Actor):
    # The query is built now, while the actor is loaded; its rows stream after the commit.
    leads = all_leads(actor, LEAD_LIST.parse({}))
    return ({key: getattr(lead, key) for key in EXPORT_COLUMNS} for lead in leads)


def register_leads_importer() -> None:
    """Called by app.pipelines.import_kinds, after contacts, so the kinds keep one order."""
    from app.pipelines.imports import ImportSpec, register_importer

    register_importer(ImportSpec(
        kind="leads", label="Leads", fields=lambda: list(IMPORT_FIELDS), export_columns=lambda: list(EXPORT_COLUMNS),
        find=_find_for_import,
        create=lambda actor, values: create_lead(actor, _import_values(values)),
        update=lambda actor, lead, values: update_lead(actor, lead.id, _import_values(values)),
        export_rows=_export_rows, create_permission="leads.create", model=Lead,
        aliases={"company": "company_name", "e_mail": "email", "mobile": "phone", "telephone": "phone",
                 "notes": "description", "first": "first_name", "last": "last_name", "surname": "last_name",
                 "owner": "owner_id"},
    ))
