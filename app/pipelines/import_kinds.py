"""What CSV import and export know of each kind: contacts, leads and deals.

Export columns are the API's CSV columns, so a file exported here or from
`GET /api/v1/contacts?format=csv` imports back into the same records.
"""
from sqlalchemy import func, select

from app.api import contacts as contacts_api
from app.core.errors import ValidationFailed
from app.core.models import isoformat
from app.extensions import db
from app.pipelines import access, contacts, deals, leads
from app.pipelines.common import custom_field_definitions
from app.pipelines.imports import ImportSpec, register_importer
from app.pipelines.models import Contact, Deal, Pipeline, Stage

# Read-only columns of the export: an import matches or shows them but never writes them.
_CONTACT_READ_ONLY = {"id", "account_name", "owner_name", "created_at", "updated_at"}


def _contact_fields() -> list[str]:
    return [c for c in contacts_api.csv_columns() if c not in _CONTACT_READ_ONLY]


def _contact_by_email(actor, email: str):
    stmt = select(Contact).where(func.lower(Contact.email) == email.strip().lower()).order_by(Contact.id).limit(1)
    return db.session.scalar(access.visible(stmt, Contact, actor, "contacts"))


def _contact_rows(actor):
    params = contacts.CONTACT_LIST.parse({})
    return (contacts_api.csv_row(c) for c in contacts.all_contacts(actor, params))


register_importer(ImportSpec(
    kind="contacts",
    label="Contacts",
    fields=_contact_fields,
    export_columns=contacts_api.csv_columns,
    find=_contact_by_email,
    create=lambda actor, data: contacts.create_contact(actor, data),
    update=lambda actor, record, data: contacts.update_contact(actor, record.id, data),
    export_rows=_contact_rows,
    create_permission="contacts.create",
    model=Contact,
    aliases={"e_mail": "email", "email_address": "email", "fname": "first_name", "firstname": "first_name",
             "given_name": "first_name", "lname": "last_name", "lastname": "last_name", "surname": "last_name",
             "family_name": "last_name", "phone": "mobile_phone", "mobile": "mobile_phone", "mobtel": "mobile_phone",
             "hometel": "home_phone", "worktel": "work_phone", "address": "addr1", "address_1": "addr1",
             "address_2": "addr2", "zip": "postcode", "postal_code": "postcode", "state": "county"},
))

leads.register_leads_importer()


# --- deals -----------------------------------------------------------------------------
# A deal has no e-mail: a row updates the deal whose `id` it carries (an export of this
# business), otherwise it creates one. Files from elsewhere name their pipeline, stage
# and contact instead of our ids: `pipeline` and `stage` by name, `contact_email`.

_DEAL_FIELDS = ["id", "title", "value", "currency", "pipeline", "stage", "pipeline_id", "stage_id", "contact_email",
                "contact_id", "account_id", "owner_id", "commission_agent_id", "expected_close_date", "lost_reason"]
_DEAL_EXPORT_ONLY = ["status", "won_at", "lost_at", "created_at"]
_DEAL_IDS = ("id", "pipeline_id", "stage_id", "contact_id", "account_id", "owner_id", "commission_agent_id")


def _deal_custom_columns() -> list[str]:
    return [f"cf_{d.key}" for d in custom_field_definitions("deal")]


def _deal_fields() -> list[str]:
    return _DEAL_FIELDS + _deal_custom_columns()


def _deal_columns() -> list[str]:
    return _DEAL_FIELDS + _DEAL_EXPORT_ONLY + _deal_custom_columns()


def _deal_row(deal, pipeline_names: dict[int, str]) -> dict:
    row = {name: getattr(deal, name, None) for name in _DEAL_FIELDS if name not in ("pipeline", "stage",
                                                                                    "contact_email")}
    row.update(pipeline=pipeline_names.get(deal.pipeline_id), stage=deal.stage.name,
               contact_email=deal.contact.email if deal.contact else None, status=deal.status,
               value=f"{deal.value:.2f}", won_at=isoformat(deal.won_at), lost_at=isoformat(deal.lost_at),
               created_at=isoformat(deal.created_at),
               expected_close_date=deal.expected_close_date.isoformat() if deal.expected_close_date else None)
    row.update({f"cf_{k}": v for k, v in (deal.custom_fields or {}).items()})
    return row


def _deal_rows(actor):
    params = deals.DEAL_LIST.parse({})
    names = dict(db.session.execute(select(Pipeline.id, Pipeline.name)).all())
    return (_deal_row(d, names) for d in deals.all_deals(actor, params))


def _deal_by_id(actor, value):
    text = str(value).strip()
    if not text.isdecimal():
        return None
    return db.session.scalar(access.visible(select(Deal).where(Deal.id == int(text)), Deal, actor, "deals"))


def _deal_data(actor, data: dict) -> dict:
    """Names to ids, digits to numbers; a name nothing matches is a 422 on its column."""
    data = dict(data)
    data.pop("id", None)
    for key in _DEAL_IDS:
        if isinstance(data.get(key), str) and data[key].strip().isdecimal():
            data[key] = int(data[key])
    errors: dict[str, list[str]] = {}
    pipeline_name, stage_name = data.pop("pipeline", None), data.pop("stage", None)
    if pipeline_name and "pipeline_id" not in data:
        pipeline = db.session.scalar(select(Pipeline).where(func.lower(Pipeline.name) == pipeline_name.lower()))
        if pipeline is None:
            errors["pipeline"] = [f"There is no pipeline named {pipeline_name}."]
        else:
            data["pipeline_id"] = pipeline.id
    if stage_name and "stage_id" not in data and not errors:
        stmt = select(Stage).where(func.lower(Stage.name) == stage_name.lower())
        if data.get("pipeline_id"):
            stmt = stmt.where(Stage.pipeline_id == data["pipeline_id"])
        else:
            stmt = stmt.join(Pipeline, Pipeline.id == Stage.pipeline_id).where(Pipeline.is_default.is_(True))
        stage = db.session.scalar(stmt)
        if stage is None:
            errors["stage"] = [f"There is no stage named {stage_name} in that pipeline."]
        else:
            data["stage_id"] = stage.id
    email = data.pop("contact_email", None)
    if email and "contact_id" not in data:
        contact = _contact_by_email(actor, email)
        if contact is None:
            errors["contact_email"] = [f"There is no contact with the email {email}."]
        else:
            data["contact_id"] = contact.id
    if errors:
        raise ValidationFailed(errors)
    return data


register_importer(ImportSpec(
    kind="deals",
    label="Deals",
    fields=_deal_fields,
    export_columns=_deal_columns,
    find=_deal_by_id,
    create=lambda actor, data: deals.create_deal(actor, _deal_data(actor, data)),
    update=lambda actor, record, data: deals.update_deal(actor, record.id, _deal_data(actor, data)),
    export_rows=_deal_rows,
    create_permission="deals.create",
    model=Deal,
    match_field="id",
    aliases={"name": "title", "deal": "title", "deal_name": "title", "amount": "value", "deal_value": "value",
             "email": "contact_email", "contact": "contact_email", "close_date": "expected_close_date",
             "pipeline_name": "pipeline", "stage_name": "stage"},
))
