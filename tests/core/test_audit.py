"""The audit log is written by a flush hook for every model that opts in: no service
records anything by hand, secrets never reach it, and its entries are never changed."""
import json

import pytest
from sqlalchemy import select

from app.auth.passwords import hash_password
from app.core.audit import REDACTED, Audited, AuditEntry
from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.locations import services as locations
from app.locations.models import Location
from app.team import agents, roles
from app.team import business as business_service
from app.team.models import Business, Role, User
from tests.conftest import make_user


def entries(app, business_id=None, **where) -> list[AuditEntry]:
    """Entries, oldest first (all businesses unless one is named)."""
    with app.app_context():
        stmt = select(AuditEntry).execution_options(all_tenants=True).order_by(AuditEntry.id)
        if business_id is not None:
            stmt = stmt.where(AuditEntry.business_id == business_id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        rows = list(db.session.scalars(stmt))
        for row in rows:
            db.session.expunge(row)
        return rows


def _owner(business_id):
    return db.session.scalar(select(User).where(User.business_id == business_id, User.role_id.is_not(None))
                             .order_by(User.id))


def test_sign_up_records_the_business_its_roles_and_owner_as_the_system(app, acme):
    rows = entries(app, acme.business_id)
    assert [(e.entity_type, e.action, e.entity_label) for e in rows] == [
        ("business", "created", "Acme Supplies"), ("role", "created", "Admin"),
        ("role", "created", "Cashier"), ("user", "created", "Owner Acme")]
    business, _, cashier, owner = rows
    assert {e.credential for e in rows} == {"system"} and {e.actor_id for e in rows} == {None}
    assert business.after["currency"] == "USD" and business.before == {}
    assert cashier.after["permissions"] == ["locations.view"] and cashier.after["name"] == "Cashier"
    assert owner.after["role"] == "Admin" and owner.after["password"] == REDACTED
    assert "password_hash" not in owner.after and "session_nonce" not in owner.after


def test_update_records_only_changed_fields_with_before_and_after(app, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        actor = actor_for(_owner(acme.business_id))
        location = locations.create_location(actor, {"name": "Shop", "city": "Bath"})
        db.session.commit()
        locations.update_location(actor, location.id, {"name": "Big Shop", "city": "Bath", "mobile": "123"})
        db.session.commit()
    created, updated = entries(app, acme.business_id, entity_type="location")
    assert created.action == "created" and created.after == {"name": "Shop", "city": "Bath", "is_active": True}
    assert updated.action == "updated" and updated.entity_label == "Big Shop"
    assert updated.before == {"name": "Shop", "mobile": None}
    assert updated.after == {"name": "Big Shop", "mobile": "123"}


def test_delete_records_the_values_it_had(app, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        actor = actor_for(_owner(acme.business_id))
        location_id = locations.create_location(actor, {"name": "Pop-up", "code": "P1"}).id
        db.session.commit()
        locations.delete_location(actor, location_id)
        db.session.commit()
    deleted = entries(app, acme.business_id, entity_type="location", action="deleted")[0]
    assert deleted.entity_id == location_id and deleted.entity_label == "Pop-up"
    assert deleted.before == {"name": "Pop-up", "code": "P1", "is_active": True} and deleted.after == {}


def test_role_permission_change_shows_names_before_and_after_in_one_entry(app, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        actor = actor_for(_owner(acme.business_id))
        role = roles.create_role(actor, {"name": "Clerk", "permissions": ["locations.view", "roles.view"]})
        db.session.commit()
        # Renames and changes permissions: the service flushes twice, the log has one entry.
        roles.update_role(actor, role.id, {"name": "Senior Clerk", "permissions": ["roles.view", "user.view"]})
        db.session.commit()
    updated = entries(app, acme.business_id, entity_type="role", action="updated")
    assert len(updated) == 1
    assert updated[0].before == {"name": "Clerk", "permissions": ["locations.view", "roles.view"]}
    assert updated[0].after == {"name": "Senior Clerk", "permissions": ["roles.view", "user.view"]}


def test_password_change_records_no_hash(app, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        owner = _owner(acme.business_id)
        old_hash = owner.password_hash
        new_hash = hash_password("a-new-password")
        owner.password_hash = new_hash
        owner.session_nonce += 1
        db.session.commit()
    entry = entries(app, acme.business_id, entity_type="user", action="updated")[-1]
    assert entry.before == {"password": REDACTED} and entry.after == {"password": REDACTED}
    dumped = json.dumps([entry.before, entry.after])
    assert old_hash not in dumped and new_hash not in dumped and "nonce" not in dumped


def test_a_field_named_like_a_secret_is_redacted_even_if_not_declared():
    from app.core.audit import _secret_name

    assert _secret_name(User, "api_secret") == "api_secret"
    assert _secret_name(User, "password_hash") == "password"
    assert _secret_name(User, "first_name") is None


def test_signing_in_records_nothing(app, acme, client):
    before = len(entries(app))
    assert client.post("/login", data={"login": "owner@acme.example", "password": "owner-password"}).status_code == 302
    assert len(entries(app)) == before  # last_login_at is not audited


def test_user_role_and_locations_are_recorded_by_name(app, acme):
    clerk_id = make_user(app, acme, "clerk@acme.example", ["locations.view"], role_name="Clerk")
    with app.app_context(), tenant_scope(acme.business_id):
        shop = Location(name="Shop")
        db.session.add(shop)
        clerk = db.session.get(User, clerk_id)
        clerk.role = db.session.scalar(select(Role).where(Role.name == f"Cashier#{acme.business_id}"))
        clerk.locations = [shop]
        clerk.location_scope = "locations"
        db.session.commit()
    entry = entries(app, acme.business_id, entity_type="user", entity_id=clerk_id, action="updated")[-1]
    assert entry.before == {"role": "Clerk", "location_scope": "all", "locations": []}
    assert entry.after == {"role": "Cashier", "location_scope": "locations", "locations": ["Shop"]}


def test_the_old_value_is_known_even_when_it_was_not_loaded(app, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        owner = _owner(acme.business_id)
        db.session.expire(owner, ["first_name"])
        owner.first_name = "Renamed"
        db.session.commit()
    entry = entries(app, acme.business_id, entity_type="user", action="updated")[-1]
    assert entry.before == {"first_name": "Owner"} and entry.after == {"first_name": "Renamed"}


def test_agent_soft_delete_is_a_deletion_of_a_commission_agent(app, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        actor = actor_for(_owner(acme.business_id))
        agent = agents.create_agent(actor, {"first_name": "Jane", "cmmsn_percent": "12.5"})
        db.session.commit()
        agents.delete_agent(actor, agent.id)
        db.session.commit()
    created, deleted = entries(app, acme.business_id, entity_type="commission_agent")
    assert created.action == "created" and created.after["cmmsn_percent"] == "12.50"
    assert created.after["is_cmmsn_agnt"] is True and "password" not in created.after
    assert deleted.action == "deleted" and deleted.entity_label == "Jane"
    assert deleted.before == {"deleted_at": None} and deleted.after["deleted_at"].endswith("Z")


def test_business_settings_change_is_recorded(app, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        actor = actor_for(_owner(acme.business_id))
        business_service.update_business(actor, {"demo_mode": True, "user_quota": 3, "name": "Acme Supplies"})
        db.session.commit()
    entry = entries(app, acme.business_id, entity_type="business", action="updated")[-1]
    assert entry.entity_id == acme.business_id
    assert entry.before == {"user_quota": None, "demo_mode": False}
    assert entry.after == {"user_quota": 3, "demo_mode": True}


def test_rolled_back_changes_leave_no_entry(app, acme):
    before = len(entries(app))
    with app.app_context(), tenant_scope(acme.business_id):
        db.session.add(Location(name="Never"))
        db.session.flush()
        db.session.rollback()
    assert len(entries(app)) == before


def test_created_then_updated_in_one_transaction_is_one_created_entry(app, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        location = Location(name="Draft")
        db.session.add(location)
        db.session.flush()
        location.name = "Final"
        location.city = "York"
        db.session.commit()
    rows = entries(app, acme.business_id, entity_type="location")
    assert [(e.action, e.after) for e in rows] == [("created", {"name": "Final", "city": "York", "is_active": True})]


def test_entries_belong_to_the_business_of_the_record(app, acme, globex):
    assert {e.business_id for e in entries(app, globex.business_id)} == {globex.business_id}
    with app.app_context(), tenant_scope(acme.business_id):
        assert {e.business_id for e in db.session.scalars(select(AuditEntry))} == {acme.business_id}


def test_entries_are_never_changed_or_deleted(app, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        entry = db.session.scalars(select(AuditEntry)).first()
        entry.entity_label = "Forged"
        with pytest.raises(RuntimeError, match="never changed"):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalars(select(AuditEntry)).first())
        with pytest.raises(RuntimeError, match="never changed"):
            db.session.flush()
        db.session.rollback()


def test_opting_in_is_a_class_attribute():
    assert issubclass(Location, Audited) and "name" in Location.__audited__
    assert issubclass(Business, Audited) and "demo_mode" in Business.__audited__
    assert "session_nonce" not in User.__audited__ and "last_login_at" not in User.__audited__
