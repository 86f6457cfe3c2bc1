"""Demo data: a small business that looks real. Each feature adds its own part here."""
from sqlalchemy import select

from app.auth.passwords import hash_password
from app.auth.services import find_login_user, sign_up
from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.locations import services as locations
from app.locations.models import Location
from app.team.models import CASHIER_ROLE, Role, User

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
    ("Priya", "Shah", "priya@greenleaf.example"),
    ("Tom", "Okafor", "tom@greenleaf.example"),
    ("Lena", "Fischer", "lena@greenleaf.example"),
]


def fill_demo_business(email: str, password: str) -> User:
    owner = find_login_user(email)
    if owner is None:
        owner = sign_up("Greenleaf Garden Supplies", "Maya", "Greene", email, password, currency="GBP",
                        timezone="Europe/London")
    with tenant_scope(owner.business_id):
        actor = actor_for(owner)
        _locations(actor)
        _staff(owner)
    return owner


def _locations(actor) -> None:
    existing = set(db.session.scalars(select(Location.code)))
    for data in LOCATIONS:
        if data["code"] not in existing:
            locations.create_location(actor, data)


def _staff(owner: User) -> None:
    cashier = db.session.scalar(select(Role).where(Role.name == f"{CASHIER_ROLE}#{owner.business_id}"))
    for first, last, email in STAFF:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            db.session.add(User(first_name=first, last_name=last, email=email, username=email, role=cashier,
                                allow_login=True, password_hash=hash_password("demo-password"), status="active"))
    db.session.flush()
