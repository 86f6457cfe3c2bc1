"""Rows for the leads tests, made straight in the database (not through the API under test)."""
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db


def add_leads(app, tenant, *rows: dict) -> list[int]:
    from app.pipelines.models import Lead

    with app.app_context(), tenant_scope(tenant.business_id):
        leads = [Lead(**{"status": "new", "custom_fields": {}, "owner_id": tenant.owner_id, **row}) for row in rows]
        db.session.add_all(leads)
        db.session.commit()
        return [lead.id for lead in leads]


def add_pipeline(app, tenant, name: str = "Sales", stages=(("New", "open"), ("Proposal", "open"), ("Won", "won"),
                                                            ("Lost", "lost")), is_default: bool = True) -> dict:
    """A pipeline with stages; returns {"id": pipeline_id, "stages": {name: stage_id}}."""
    from app.pipelines.models import Pipeline, Stage

    with app.app_context(), tenant_scope(tenant.business_id):
        pipeline = Pipeline(name=name, is_default=is_default)
        db.session.add(pipeline)
        db.session.flush()
        made = {}
        for position, (stage_name, kind) in enumerate(stages):
            stage = Stage(pipeline_id=pipeline.id, name=stage_name, kind=kind, position=position)
            db.session.add(stage)
            db.session.flush()
            made[stage_name] = stage.id
        db.session.commit()
        return {"id": pipeline.id, "stages": made}


def add_row(app, tenant, model, **values) -> int:
    with app.app_context(), tenant_scope(tenant.business_id):
        row = model(**values)
        if hasattr(row, "custom_fields") and row.custom_fields is None:
            row.custom_fields = {}
        db.session.add(row)
        db.session.commit()
        return row.id


def add_form(app, tenant, **values) -> tuple[int, str]:
    """A capture form; returns (id, key)."""
    from app.pipelines.models import CaptureForm

    with app.app_context(), tenant_scope(tenant.business_id):
        form = CaptureForm(**{"name": "Website", "key": f"key-{tenant.business_id}-{values.get('name', 'w')}",
                              "allowed_origins": [], "honeypot_field": "website_url", "is_active": True, **values})
        db.session.add(form)
        db.session.commit()
        return form.id, form.key


def rows(app, model, **where) -> list:
    """Every row of `model` in any business matching `where`, detached."""
    with app.app_context():
        stmt = select(model).filter_by(**where).order_by(model.id).execution_options(all_tenants=True)
        found = list(db.session.scalars(stmt))
        for row in found:
            db.session.expunge(row)
        return found


def events(app, name: str | None = None) -> list:
    from app.core.events import OutboxEvent

    with app.app_context():
        stmt = select(OutboxEvent).order_by(OutboxEvent.id)
        if name:
            stmt = stmt.where(OutboxEvent.name == name)
        found = list(db.session.scalars(stmt))
        for row in found:
            db.session.expunge(row)
        return found
