"""Permission names of the sales pipelines.

`<kind>.view` lets a user see the records they own; `<kind>.view_all` every record of
the business (seed 003's ownership model).
"""
from app.core.permissions import register_permissions


def _crud(kind: str, label: str, one: str) -> dict[str, str]:
    return {
        f"{kind}.view": f"See own {label}",
        f"{kind}.view_all": f"See every {one} of the business",
        f"{kind}.create": f"Add {label}",
        f"{kind}.update": f"Edit {label}",
        f"{kind}.delete": f"Delete {label}",
    }


register_permissions("Contacts", _crud("contacts", "contacts", "contact"))
register_permissions("Accounts", _crud("accounts", "accounts", "account"))
register_permissions("Leads", {**_crud("leads", "leads", "lead"), "leads.convert": "Convert leads"})
register_permissions("Deals", _crud("deals", "deals", "deal"))
register_permissions("Activities", _crud("activities", "activities", "activity"))
register_permissions("Pipelines settings", {
    "pipelines.manage": "Create, rename, reorder and delete pipelines and stages",
    "crm.settings": "Manage custom fields, lead-capture forms and the inbound webhook secret",
    "crm.import": "Import contacts, leads and deals from CSV",
    "crm.export": "Export contacts, accounts, leads, deals and activities to CSV",
})
