"""Rows for the CRM tests, made straight in the database."""
from sqlalchemy import insert, select

from app.core.tenancy import tenant_scope
from app.extensions import db


def add_contacts(app, tenant, *rows: dict) -> list[int]:
    """Contacts for `tenant`; `tags` may name tags (created on the fly). Returns ids."""
    from app.pipelines.models import Contact, Tag

    with app.app_context(), tenant_scope(tenant.business_id):
        made = []
        for row in rows:
            row = dict(row)
            tag_names = row.pop("tags", [])
            row.setdefault("owner_id", tenant.owner_id)
            contact = Contact(**row)
            for name in tag_names:
                tag = db.session.scalar(select(Tag).where(Tag.name == name)) or Tag(name=name)
                db.session.add(tag)
                db.session.flush()
                contact.tags.append(tag)
            db.session.add(contact)
            made.append(contact)
        db.session.commit()
        return [c.id for c in made]


def add_accounts(app, tenant, *rows: dict) -> list[int]:
    from app.pipelines.models import Account

    with app.app_context(), tenant_scope(tenant.business_id):
        made = [Account(**{"owner_id": tenant.owner_id, **row}) for row in rows]
        db.session.add_all(made)
        db.session.commit()
        return [a.id for a in made]


def add_custom_fields(app, tenant, *rows: dict) -> list[int]:
    from app.pipelines.models import CustomField

    with app.app_context(), tenant_scope(tenant.business_id):
        made = [CustomField(**{"entity": "contact", "type": "text", "options": [], **row}) for row in rows]
        db.session.add_all(made)
        db.session.commit()
        return [f.id for f in made]


def add_deal(app, tenant, title: str, **fields) -> int:
    """A deal in a one-stage pipeline (made on first use)."""
    from app.pipelines.models import Deal, Pipeline, Stage

    with app.app_context(), tenant_scope(tenant.business_id):
        pipeline = db.session.scalar(select(Pipeline))
        if pipeline is None:
            pipeline = Pipeline(name="Sales", is_default=True)
            db.session.add(pipeline)
            db.session.flush()
            db.session.add(Stage(pipeline_id=pipeline.id, name="Qualified", position=0, probability=20))
            db.session.flush()
        stage = db.session.scalar(select(Stage).where(Stage.pipeline_id == pipeline.id))
        deal = Deal(title=title, pipeline_id=pipeline.id, stage_id=stage.id,
                    **{"owner_id": tenant.owner_id, **fields})
        db.session.add(deal)
        db.session.commit()
        return deal.id


def limit_to_contacts(app, user_id: int, contact_ids) -> None:
    """Seed 002's selected contacts: the user sees only these."""
    from app.team.models import User, user_contacts

    with app.app_context():
        user = db.session.scalar(select(User).where(User.id == user_id).execution_options(all_tenants=True))
        user.selected_contacts = True
        for contact_id in contact_ids:
            db.session.execute(insert(user_contacts).values(user_id=user_id, contact_id=contact_id))
        db.session.commit()


def row(app, model, record_id: int):
    """A row as stored, from any business (None when gone), detached with its columns loaded."""
    with app.app_context():
        found = db.session.scalar(select(model).where(model.id == record_id).execution_options(all_tenants=True))
        if found is not None:
            db.session.expunge(found)
        return found


def events(app, name: str) -> list[dict]:
    from app.core.events import OutboxEvent

    with app.app_context():
        return [e.payload for e in db.session.scalars(select(OutboxEvent).where(OutboxEvent.name == name)
                                                       .order_by(OutboxEvent.id))]
