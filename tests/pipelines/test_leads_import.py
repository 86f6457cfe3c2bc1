"""Leads in the CSV import framework: export columns, import creates and updates by e-mail."""
from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pipelines import exports, imports
from app.pipelines.models import Lead
from app.team.models import User
from tests.leads_support import add_leads, rows


def test_leads_importer_round_trip(app, acme):
    add_leads(app, acme, {"first_name": "Ann", "email": "ann@example.com", "source": "web"})
    spec = imports.importer("leads")
    with app.app_context(), tenant_scope(acme.business_id):
        actor = actor_for(db.session.get(User, acme.owner_id))
        export = exports.export_now_or_later(actor, "leads", {}, layout="import")
        columns, exported = export.columns, list(export.rows)
        assert columns[:4] == ["id", "first_name", "last_name", "email"] and exported[0]["email"] == "ann@example.com"
        found = spec.find(actor, "ANN@example.com")
        spec.update(actor, found, {"first_name": "Anna", "status": "contacted", "owner_id": str(acme.owner_id)})
        spec.create(actor, spec.as_data({"first_name": "Bo", "email": "bo@example.com", "status": ""}))
        db.session.commit()
    assert sorted((lead.first_name, lead.status) for lead in rows(app, Lead)) == [("Anna", "contacted"), ("Bo", "new")]


def test_import_export_screen_offers_leads(app, owner_browser, acme):
    add_leads(app, acme, {"first_name": "Ann", "email": "ann@example.com"})
    page = owner_browser.get("/pipelines/import-export/")
    assert page.status_code == 200 and "Leads" in page.get_data(as_text=True)
    exported = owner_browser.get("/pipelines/import-export/export/leads")
    assert exported.status_code == 200 and "ann@example.com" in exported.get_data(as_text=True)
