"""Who may download a list as CSV: the one check every CSV path of a list goes through.

A `ListSpec` names the permission its CSV needs (`export_permission`, `crm.export` for the
CRM records); the API's `format=csv`, the screens' export links and bulk exports, the
Import/Export page and the export job all call `require_export` before reading a row.
"""
from app.core.permissions import Actor, require


def require_export(actor: Actor, spec) -> None:
    """Forbidden unless `actor` may export the list `spec` describes (its view permission
    is the list service's own check)."""
    permission = getattr(spec, "export_permission", None)
    if permission:
        require(actor, permission)
