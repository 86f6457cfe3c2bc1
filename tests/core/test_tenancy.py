"""Rule 5: while business A is current, nothing reads or touches business B's rows."""
import pytest
from sqlalchemy import delete, func, select, update

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.locations.models import Location
from app.team.models import User, user_locations


@pytest.fixture
def two_tenants(app, acme, globex):
    with app.app_context():
        with tenant_scope(acme.business_id):
            db.session.add_all([Location(name="Acme North"), Location(name="Acme South")])
        with tenant_scope(globex.business_id):
            db.session.add_all([Location(name="Globex HQ")])
        db.session.commit()
    return acme, globex


def _names():
    return sorted(db.session.scalars(select(Location.name)))


def test_select_sees_only_current_business(app, two_tenants):
    acme, globex = two_tenants
    with app.app_context():
        with tenant_scope(acme.business_id):
            assert _names() == ["Acme North", "Acme South"]
            assert db.session.scalar(select(func.count()).select_from(Location)) == 2
        with tenant_scope(globex.business_id):
            assert _names() == ["Globex HQ"]


def test_get_by_primary_key_of_other_business_is_none(app, two_tenants):
    acme, globex = two_tenants
    with app.app_context():
        with tenant_scope(globex.business_id):
            globex_id = db.session.scalar(select(Location.id))
        db.session.expunge_all()  # no identity-map shortcut: the database must refuse it
        with tenant_scope(acme.business_id):
            assert db.session.get(Location, globex_id) is None


def test_no_current_business_sees_nothing(app, two_tenants):
    with app.app_context():
        assert _names() == []
        assert db.session.scalars(select(User)).all() == []


def test_all_tenants_option_is_explicit(app, two_tenants):
    with app.app_context():
        names = db.session.scalars(select(Location.name).execution_options(all_tenants=True)).all()
        assert sorted(names) == ["Acme North", "Acme South", "Globex HQ"]


def test_relationship_load_is_scoped(app, two_tenants):
    """A user linked (by a bad write) to another business's location never loads it."""
    acme, globex = two_tenants
    with app.app_context():
        with tenant_scope(globex.business_id):
            globex_location = db.session.scalar(select(Location.id))
        with tenant_scope(acme.business_id):
            acme_location = db.session.scalar(select(Location.id).where(Location.name == "Acme North"))
        db.session.execute(user_locations.insert(), [
            {"user_id": acme.owner_id, "location_id": acme_location},
            {"user_id": acme.owner_id, "location_id": globex_location},
        ])
        db.session.commit()
        db.session.expunge_all()
        with tenant_scope(acme.business_id):
            owner = db.session.get(User, acme.owner_id)
            assert [loc.name for loc in owner.locations] == ["Acme North"]


def test_bulk_update_and_delete_touch_only_current_business(app, two_tenants):
    acme, globex = two_tenants
    with app.app_context():
        with tenant_scope(acme.business_id):
            db.session.execute(update(Location).values(city="Renamed"))
            db.session.execute(delete(Location).where(Location.name == "Globex HQ"))
            db.session.commit()
        rows = db.session.execute(
            select(Location.name, Location.city).order_by(Location.name).execution_options(all_tenants=True)
        ).all()
        assert rows == [("Acme North", "Renamed"), ("Acme South", "Renamed"), ("Globex HQ", None)]


def test_new_rows_get_the_current_business(app, acme):
    with app.app_context():
        with tenant_scope(acme.business_id):
            location = Location(name="Stamped")
            db.session.add(location)
            db.session.flush()
            assert location.business_id == acme.business_id
        db.session.rollback()


def test_new_row_without_business_is_refused(app, acme):
    with app.app_context():
        db.session.add(Location(name="Orphan"))
        with pytest.raises(RuntimeError, match="no current business"):
            db.session.flush()
        db.session.rollback()
