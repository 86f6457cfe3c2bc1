"""Rows for the sales screens' tests: deals made through the services, read back from the database."""
from datetime import timedelta

from sqlalchemy import select

from app.core.models import utcnow
from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db


def stage_ids(app, tenant) -> dict[str, int]:
    from app.pipelines import pipelines

    with app.app_context(), tenant_scope(tenant.business_id):
        pipeline = pipelines.default_pipeline()
        db.session.commit()
        return {stage.name: stage.id for stage in pipeline.stages}


def add_deals(app, tenant, *rows: dict, user_id: int | None = None) -> list[int]:
    """Deals created by the tenant's owner (or `user_id`); `days_in_stage` backdates one."""
    from app.pipelines import deals
    from app.team.models import User

    with app.app_context(), tenant_scope(tenant.business_id):
        actor = actor_for(db.session.get(User, user_id or tenant.owner_id))
        ids = []
        for row in rows:
            row = dict(row)
            days = row.pop("days_in_stage", None)
            deal = deals.create_deal(actor, row)
            if days is not None:
                deal.stage_entered_at = utcnow() - timedelta(days=days)
            ids.append(deal.id)
        db.session.commit()
        return ids


def deal_row(app, deal_id: int):
    from app.pipelines.models import Deal

    with app.app_context():
        row = db.session.scalar(select(Deal).where(Deal.id == deal_id).execution_options(all_tenants=True))
        if row is not None:
            db.session.expunge(row)
        return row


def column(app, stage_id: int) -> list[tuple[str, int]]:
    from app.pipelines.models import Deal

    with app.app_context():
        stmt = (select(Deal.title, Deal.position).where(Deal.stage_id == stage_id).order_by(Deal.position)
                .execution_options(all_tenants=True))
        return [tuple(r) for r in db.session.execute(stmt)]


def use_number_format(app, tenant, decimal_separator: str) -> None:
    """The business writes amounts with `decimal_separator` ("," reads "1.234,56")."""
    from app.team.models import Business

    with app.app_context():
        db.session.get(Business, tenant.business_id).decimal_separator = decimal_separator
        db.session.commit()


def deal_values(app, tenant) -> list[tuple[str, str]]:
    """(title, value) of every deal of the business, by title."""
    from app.pipelines.models import Deal

    with app.app_context(), tenant_scope(tenant.business_id):
        return [(title, f"{value:.2f}") for title, value in
                db.session.execute(select(Deal.title, Deal.value).order_by(Deal.title))]
