"""The CSV exports of each CRM list: contacts, accounts, leads, deals and activities.

A kind's columns and rows are the API's `format=csv` ones, so a list exported from the
screens, from the API, or by an export job is the same file.
"""
from marshmallow import ValidationError

from app.api import accounts as accounts_api
from app.api import activities as activities_api
from app.api import contacts as contacts_api
from app.api import deals as deals_api
from app.api import leads as leads_api
from app.core.errors import ValidationFailed
from app.core.listing import flatten_errors
from app.pipelines import accounts, activities, contacts, deals, leads
from app.pipelines.exports import ExportKind, count_of, register_export_kind


def schema_columns(schema) -> list[str]:
    """A schema's CSV columns, as app.api.base.list_answer names them."""
    return [f.data_key or n for n, f in schema.fields.items() if not f.load_only]


# --- contacts and accounts: custom fields as cf_<key> columns --------------------------------

register_export_kind(ExportKind(
    kind="contacts", label="Contacts", spec=contacts.CONTACT_LIST,
    columns=contacts_api.csv_columns,
    rows=lambda actor, args: (contacts_api.csv_row(c)
                              for c in contacts.all_contacts(actor, contacts.CONTACT_LIST.parse(args))),
    count=lambda actor, args: count_of(contacts.list_contacts, actor, contacts.CONTACT_LIST.parse(args)),
    selected=lambda actor, ids: (contacts_api.csv_row(c) for c in contacts.selected_contacts(actor, ids)),
))

register_export_kind(ExportKind(
    kind="accounts", label="Accounts", spec=accounts.ACCOUNT_LIST,
    columns=accounts_api.csv_columns,
    rows=lambda actor, args: (accounts_api.csv_row(a)
                              for a in accounts.all_accounts(actor, accounts.ACCOUNT_LIST.parse(args))),
    count=lambda actor, args: count_of(accounts.list_accounts, actor, accounts.ACCOUNT_LIST.parse(args)),
    selected=lambda actor, ids: (accounts_api.csv_row(a) for a in accounts.selected_accounts(actor, ids)),
))


# --- leads, deals, activities: the schema's fields ------------------------------------------

def _dumped(schema_cls, records):
    schema = schema_cls()
    return (schema.dump(record) for record in records)


def _lead_args(args):
    return leads.LEAD_LIST.parse(args), contacts.cf_filters_from(args)


register_export_kind(ExportKind(
    kind="leads", label="Leads", spec=leads.LEAD_LIST,
    columns=lambda: schema_columns(leads_api.LeadSchema()),
    rows=lambda actor, args: _dumped(leads_api.LeadSchema, leads.all_leads(actor, *_lead_args(args))),
    count=lambda actor, args: count_of(leads.list_leads, actor, *_lead_args(args)),
    selected=lambda actor, ids: _dumped(leads_api.LeadSchema, leads.leads_by_ids(actor, ids)),
))


def _deal_args(args):
    owned = (args.get("owned") or "").strip().lower() in {"1", "true", "yes", "on"}
    return deals.DEAL_LIST.parse(args), deals.custom_filters_from(args), owned


register_export_kind(ExportKind(
    kind="deals", label="Deals", spec=deals.DEAL_LIST,
    columns=lambda: schema_columns(deals_api.DealSchema()),
    rows=lambda actor, args: _dumped(deals_api.DealSchema, deals.all_deals(actor, *_deal_args(args))),
    count=lambda actor, args: count_of(deals.list_deals, actor, *_deal_args(args)),
    selected=lambda actor, ids: _dumped(deals_api.DealSchema, deals.deals_by_ids(actor, ids)),
))


def _activity_args(args):
    try:
        due = activities_api.DueWindowArgs().load(args.to_dict() if hasattr(args, "to_dict") else dict(args))
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from exc
    return activities.ACTIVITY_LIST.parse(args), due.get("due_before"), due.get("due_after")


def _selected_activities(actor, ids):
    raise ValidationFailed({"ids": ["Activities are exported as a list, not a selection."]})


register_export_kind(ExportKind(
    kind="activities", label="Activities", spec=activities.ACTIVITY_LIST,
    columns=lambda: schema_columns(activities_api.ActivitySchema()),
    rows=lambda actor, args: _dumped(activities_api.ActivitySchema,
                                     activities.all_activities(actor, *_activity_args(args))),
    count=lambda actor, args: count_of(activities.list_activities, actor, *_activity_args(args)),
    selected=_selected_activities,
))
