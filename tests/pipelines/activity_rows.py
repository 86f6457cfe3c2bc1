"""CRM rows made straight in the database for the activities and search tests."""
from datetime import timedelta

from sqlalchemy import select

from app.core.models import utcnow
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pipelines.models import Account, Activity, Contact, Deal, Lead, Pipeline, Stage


def add(app, tenant, *rows) -> list[int]:
    """Add model instances for `tenant`; returns their ids."""
    with app.app_context(), tenant_scope(tenant.business_id):
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def add_pipeline(app, tenant) -> tuple[int, int]:
    """(pipeline id, first stage id)."""
    with app.app_context(), tenant_scope(tenant.business_id):
        pipeline = Pipeline(name="Sales", is_default=True)
        stage = Stage(pipeline=pipeline, name="Qualified", position=0, probability=20)
        db.session.add_all([pipeline, stage])
        db.session.commit()
        return pipeline.id, stage.id


def add_deal(app, tenant, title: str, **fields) -> int:
    pipeline_id, stage_id = add_pipeline(app, tenant)
    return add(app, tenant, Deal(title=title, pipeline_id=pipeline_id, stage_id=stage_id, **fields))[0]


def records(app, tenant, owner_id=None) -> dict[str, int]:
    """One contact, account, lead and deal of `tenant`, owned by `owner_id`."""
    account_id = add(app, tenant, Account(name="Northwind Traders", domain="northwind.example", owner_id=owner_id))[0]
    contact_id = add(app, tenant, Contact(first_name="Jane", last_name="Doe", email="jane.doe@northwind.example",
                                          mobile_phone="+441174960123", account_id=account_id,
                                          owner_id=owner_id))[0]
    lead_id = add(app, tenant, Lead(first_name="Lou", last_name="Reed", email="lou@velvet.example",
                                    company_name="Velvet Ltd", owner_id=owner_id))[0]
    deal_id = add_deal(app, tenant, "Garden makeover", owner_id=owner_id, contact_id=contact_id)
    return {"contact": contact_id, "account": account_id, "lead": lead_id, "deal": deal_id}


def add_activity(app, tenant, **fields) -> int:
    fields.setdefault("subject", "Call back")
    fields.setdefault("type", "call")
    return add(app, tenant, Activity(**fields))[0]


def activity_row(app, activity_id: int):
    with app.app_context():
        stmt = select(Activity).where(Activity.id == activity_id).execution_options(all_tenants=True)
        row = db.session.scalar(stmt)
        if row is not None:
            db.session.expunge(row)
        return row


def days(n: float):
    return utcnow() + timedelta(days=n)
