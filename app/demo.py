"""Demo data: a small business that looks real. Each feature adds its own part here."""
from sqlalchemy import select

from app.auth.passwords import hash_password
from app.auth.services import find_login_user, sign_up
from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.locations import services as locations
from app.locations.models import Location
from app.pipelines import demo_contacts
from app.team import agents, roles
from app.team.models import Role, User

LOCATIONS = [
    {"name": "Harbour Street Shop", "code": "HS01", "landmark": "12 Harbour Street", "city": "Bristol",
     "country": "United Kingdom", "zip_code": "BS1 4RN", "mobile": "+44 117 496 0123",
     "email": "harbour@greenleaf.example"},
    {"name": "Market Hall Stall", "code": "MH02", "landmark": "Unit 4, Corn Exchange", "city": "Bristol",
     "country": "United Kingdom", "zip_code": "BS1 1JQ", "mobile": "+44 117 496 0456"},
    {"name": "Warehouse", "code": "WH01", "landmark": "Avonside Industrial Estate", "city": "Bristol",
     "country": "United Kingdom", "zip_code": "BS2 0UQ", "is_active": True},
    {"name": "Bath Pop-up", "code": "BA01", "landmark": "Milsom Place", "city": "Bath",
     "country": "United Kingdom", "zip_code": "BA1 1BZ", "is_active": False},
]
STAFF = [
    ("Priya", "Shah", "priya@greenleaf.example", "Shop Manager"),
    ("Tom", "Okafor", "tom@greenleaf.example", "Cashier"),
    ("Lena", "Fischer", "lena@greenleaf.example", "Cashier"),
]
ROLES = [
    {"name": "Shop Manager", "is_service_staff": False,
     "permissions": ["locations.view", "locations.create", "locations.update", "user.view", "roles.view"]},
    {"name": "Garden Designer", "is_service_staff": True, "permissions": ["locations.view"]},
]
AGENTS = [
    {"first_name": "Oliver", "last_name": "Grant", "email": "oliver@grant-referrals.example",
     "contact_no": "+44 7700 900123", "address": "4 Orchard Lane, Bristol", "cmmsn_percent": "7.5"},
    {"first_name": "Sofia", "last_name": "Marin", "email": "sofia.marin@example.com",
     "contact_no": "+44 7700 900456", "cmmsn_percent": "10"},
]


def fill_demo_business(email: str, password: str) -> User:
    owner = find_login_user(email)
    if owner is None:
        owner = sign_up("Greenleaf Garden Supplies", "Maya", "Greene", email, password, currency="GBP",
                        timezone="Europe/London")
    with tenant_scope(owner.business_id):
        actor = actor_for(owner)
        _locations(actor)
        _roles(actor)
        _staff(owner)
        _agents(actor)
        demo_contacts.fill(actor)
    return owner


def _locations(actor) -> None:
    existing = set(db.session.scalars(select(Location.code)))
    for data in LOCATIONS:
        if data["code"] not in existing:
            locations.create_location(actor, data)


def _roles(actor) -> None:
    existing = {role.name_key for role in db.session.scalars(select(Role))}
    for data in ROLES:
        if data["name"] not in existing:
            roles.create_role(actor, data)


def _staff(owner: User) -> None:
    by_name = {role.name_key: role for role in db.session.scalars(select(Role))}
    for first, last, email, role_name in STAFF:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            db.session.add(User(first_name=first, last_name=last, email=email, username=email,
                                role=by_name[role_name], allow_login=True, status="active",
                                password_hash=hash_password("demo-password")))
    db.session.flush()


def _agents(actor) -> None:
    known = set(db.session.scalars(select(User.email).where(User.is_cmmsn_agnt.is_(True))))
    for data in AGENTS:
        if data["email"] not in known:
            agents.create_agent(actor, data)
