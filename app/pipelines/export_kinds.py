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


def _register_schema_kind(kind: str, label: str, spec, schema_cls, parse_args, all_rows, list_page, selected):
    """A kind whose CSV columns are its API schema's fields: rows, count and the ticked
    records all read through `parse_args(args)` -> the list function's arguments."""
    register_export_kind(ExportKind(
        kind=kind, label=label, spec=spec,
        columns=lambda: schema_columns(schema_cls()),
        rows=lambda actor, args: _dumped(schema_cls, all_rows(actor, *parse_args(args))),
        count=lambda actor, args: count_of(list_page, actor, *parse_args(args)),
        selected=selected,
    ))


def _lead_args(args):
    return leads.LEAD_LIST.parse(args), contacts.cf_filters_from(args)


def _deal_args(args):
    owned = (args.get("owned") or "").strip().lower() in {"1", "true", "yes", "on"}
    return deals.DEAL_LIST.parse(args), deals.custom_filters_from(args), owned


def _activity_args(args):
    try:
        due = activities_api.DueWindowArgs().load(args.to_dict() if hasattr(args, "to_dict") else dict(args))
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from exc
    return activities.ACTIVITY_LIST.parse(args), due.get("due_before"), due.get("due_after")


def _selected_activities(actor, ids):
    raise ValidationFailed({"ids": ["Activities are exported as a list, not a selection."]})


_register_schema_kind("leads", "Leads", leads.LEAD_LIST, leads_api.LeadSchema, _lead_args,
                      leads.all_leads, leads.list_leads,
                      lambda actor, ids: _dumped(leads_api.LeadSchema, leads.leads_by_ids(actor, ids)))
_register_schema_kind("deals", "Deals", deals.DEAL_LIST, deals_api.DealSchema, _deal_args,
                      deals.all_deals, deals.list_deals,
                      lambda actor, ids: _dumped(deals_api.DealSchema, deals.deals_by_ids(actor, ids)))
_register_schema_kind("activities", "Activities", activities.ACTIVITY_LIST, activities_api.ActivitySchema,
                      _activity_args, activities.all_activities, activities.list_activities, _selected_activities)
