"""convert_lead(): creates or links the contact and account, optionally a deal; twice is a 409."""
import pytest
from sqlalchemy import select

from app.core.errors import Conflict, Forbidden, ValidationFailed
from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pipelines.leads import convert_lead
from app.pipelines.models import Account, CaptureForm, Contact, Deal, Lead
from app.team.models import User
from tests.conftest import make_user
from tests.leads_support import add_leads, add_pipeline, add_row, events, rows


def _convert(app, tenant, lead_id, user_id=None, **options):
    with app.app_context(), tenant_scope(tenant.business_id):
        user = db.session.get(User, user_id or tenant.owner_id)
        lead = db.session.scalar(select(Lead).where(Lead.id == lead_id))
        convert_lead(lead, actor_for(user), options)
        db.session.commit()


def test_creates_contact_and_account(app, acme):
    (lead_id,) = add_leads(app, acme, {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com",
                                       "phone": "+441174960123", "company_name": "Lee Gardens", "source": "fair"})
    _convert(app, acme, lead_id)
    (lead,) = rows(app, Lead)
    (contact,) = rows(app, Contact)
    (account,) = rows(app, Account)
    assert (contact.first_name, contact.last_name, contact.email, contact.mobile_phone, contact.source) == (
        "Ann", "Lee", "ann@example.com", "+441174960123", "fair")
    assert (account.name, contact.account_id, contact.owner_id) == ("Lee Gardens", account.id, acme.owner_id)
    assert (lead.status, lead.contact_id, lead.account_id, lead.deal_id) == ("converted", contact.id, account.id, None)
    assert lead.converted_by_id == acme.owner_id and lead.converted_at is not None
    assert rows(app, Deal) == []
    names = [e.name for e in events(app)]
    assert "lead.converted" in names and "deal.created" not in names
    (converted,) = events(app, "lead.converted")
    assert converted.payload["contact_id"] == contact.id and converted.business_id == acme.business_id


def test_links_existing_contact_by_email_and_account_by_name(app, acme):
    account_id = add_row(app, acme, Account, name="Lee Gardens", owner_id=acme.owner_id)
    contact_id = add_row(app, acme, Contact, first_name="Ann", email="ANN@example.com", owner_id=acme.owner_id)
    (lead_id,) = add_leads(app, acme, {"email": "ann@example.com", "company_name": "lee gardens"})
    _convert(app, acme, lead_id)
    (lead,) = rows(app, Lead)
    assert (lead.contact_id, lead.account_id) == (contact_id, account_id)
    assert len(rows(app, Contact)) == 1 and len(rows(app, Account)) == 1
    assert rows(app, Contact)[0].account_id == account_id


def test_links_chosen_contact_and_no_account_without_company(app, acme):
    chosen = add_row(app, acme, Contact, first_name="Chosen", owner_id=acme.owner_id)
    (lead_id,) = add_leads(app, acme, {"first_name": "Solo"})
    _convert(app, acme, lead_id, contact_id=chosen)
    (lead,) = rows(app, Lead)
    assert (lead.contact_id, lead.account_id) == (chosen, None)
    assert rows(app, Account) == []


def test_creates_deal_in_chosen_stage_and_records_events(app, acme):
    pipeline = add_pipeline(app, acme)
    (lead_id,) = add_leads(app, acme, {"first_name": "Bo", "company_name": "Bo Ltd"})
    _convert(app, acme, lead_id, create_deal=True, deal_title="Bo patio", deal_value="900",
             pipeline_id=pipeline["id"], stage_id=pipeline["stages"]["Proposal"])
    (deal,) = rows(app, Deal)
    (lead,) = rows(app, Lead)
    assert (deal.title, str(deal.value), deal.status, deal.stage_id) == ("Bo patio", "900.00", "open",
                                                                         pipeline["stages"]["Proposal"])
    assert (deal.contact_id, deal.account_id, lead.deal_id) == (lead.contact_id, lead.account_id, deal.id)
    assert deal.stage_entered_at is not None
    assert [e.name for e in events(app) if e.name in ("deal.created", "lead.converted")] == [
        "deal.created", "lead.converted"]


def test_deal_defaults_to_capture_form_pipeline_and_stage(app, acme):
    add_pipeline(app, acme, name="Main")
    other = add_pipeline(app, acme, name="Web", is_default=False)
    form_id = add_row(app, acme, CaptureForm, name="F", key="k-defaults", pipeline_id=other["id"],
                      stage_id=other["stages"]["Proposal"], allowed_origins=[])
    (lead_id,) = add_leads(app, acme, {"first_name": "Di", "capture_form_id": form_id})
    _convert(app, acme, lead_id, create_deal=True)
    (deal,) = rows(app, Deal)
    assert (deal.pipeline_id, deal.stage_id, deal.title, str(deal.value)) == (
        other["id"], other["stages"]["Proposal"], "Di", "0.00")


def test_converting_twice_is_a_conflict(app, acme):
    (lead_id,) = add_leads(app, acme, {"email": "twice@example.com"})
    _convert(app, acme, lead_id)
    with pytest.raises(Conflict, match="This lead has already been converted."):
        _convert(app, acme, lead_id)
    assert len(rows(app, Contact)) == 1 and len(events(app, "lead.converted")) == 1


def test_bad_options_save_nothing(app, acme):
    pipeline = add_pipeline(app, acme)
    (lead_id,) = add_leads(app, acme, {"email": "x@example.com", "company_name": "X"})
    with pytest.raises(ValidationFailed) as caught:
        _convert(app, acme, lead_id, create_deal=True, pipeline_id=pipeline["id"], stage_id=pipeline["stages"]["Lost"])
    assert caught.value.errors == {"stage_id": ["A new deal cannot start in a lost stage."]}
    assert rows(app, Contact) == [] and rows(app, Account) == [] and rows(app, Lead)[0].status == "new"


def test_needs_leads_convert(app, acme):
    user = make_user(app, acme, "viewer@acme.example", permissions=["leads.view_all", "leads.update"])
    (lead_id,) = add_leads(app, acme, {"email": "p@example.com"})
    with pytest.raises(Forbidden):
        _convert(app, acme, lead_id, user_id=user)
