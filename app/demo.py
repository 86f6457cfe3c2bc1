"""Demo data: a small business that looks real. Each feature adds its own part here."""
from sqlalchemy import select

from app.auth.passwords import hash_password
from app.auth.services import find_login_user, sign_up
from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.locations import services as locations
from app.locations.models import Location
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
        _deals(actor)
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


# title, value, stage, owner's e-mail (None: the demo owner), days in its stage; lost ones end with a reason.
DEALS = [
    ("Riverside Hotel courtyard planting", "4800", "Qualified", "priya@greenleaf.example", 3),
    ("Office plants for Brightwave Studios", "1250", "Qualified", None, 1),
    ("St Mary's school vegetable beds", "2200", "Qualified", "tom@greenleaf.example", 20),
    ("Allotment society bulk compost", "640", "Qualified", "lena@greenleaf.example", 6),
    ("Clifton townhouse roof terrace", "7350", "Qualified", "priya@greenleaf.example", 2),
    ("Café Verde window boxes", "380", "Qualified", None, 9),
    ("Harbourside flats communal garden", "12500", "Qualified", None, 31),
    ("Wedding venue seasonal displays", "3100", "Contact made", "priya@greenleaf.example", 4),
    ("Bristol Dental waiting-room greenery", "900", "Contact made", "lena@greenleaf.example", 12),
    ("Community orchard fruit trees", "2750", "Contact made", "tom@greenleaf.example", 17),
    ("Yoga studio living wall", "5600", "Contact made", None, 5),
    ("Garden centre wholesale seeds", "1800", "Contact made", "priya@greenleaf.example", 26),
    ("Care home sensory garden", "8900", "Contact made", None, 8),
    ("Restaurant herb planters", "720", "Contact made", "lena@greenleaf.example", 2),
    ("Library reading-garden refresh", "3400", "Proposal", "priya@greenleaf.example", 7),
    ("Avon Rugby Club hanging baskets", "1150", "Proposal", "tom@greenleaf.example", 24),
    ("Tech park courtyard maintenance contract", "15800", "Proposal", None, 10),
    ("New-build show home gardens (6 plots)", "21000", "Proposal", "priya@greenleaf.example", 3),
    ("Pub beer-garden makeover", "4200", "Proposal", "lena@greenleaf.example", 15),
    ("Florist weekly cut-foliage supply", "2600", "Proposal", None, 29),
    ("Primary school wildflower meadow", "1900", "Proposal", "tom@greenleaf.example", 1),
    ("Boutique hotel rooftop olive trees", "9600", "Negotiation", "priya@greenleaf.example", 6),
    ("Council roundabout planting scheme", "18500", "Negotiation", None, 19),
    ("Coworking space plant rental", "3300", "Negotiation", "lena@greenleaf.example", 4),
    ("Private estate hedge renewal", "11200", "Negotiation", "priya@greenleaf.example", 22),
    ("Spa retreat zen garden", "6700", "Negotiation", None, 2),
    ("Farm shop raised beds and irrigation", "5150", "Negotiation", "tom@greenleaf.example", 9),
    ("Estate agent office plants", "980", "Won", "lena@greenleaf.example", 3),
    ("Museum courtyard topiary", "7400", "Won", "priya@greenleaf.example", 12),
    ("Dental practice window boxes", "460", "Won", None, 20),
    ("Student halls balcony planters", "2300", "Won", "tom@greenleaf.example", 6),
    ("Gym reception living wall", "5200", "Lost", "lena@greenleaf.example", 8, "Went with a cheaper supplier"),
    ("Marina promenade planters", "8800", "Lost", None, 15, "Budget moved to next year"),
    ("Bakery shopfront bay trees", "540", "Lost", "tom@greenleaf.example", 4, "No reply after three follow-ups"),
    ("Charity shop garden makeover", "1400", "Qualified", "priya@greenleaf.example", 11),
    ("Vet surgery courtyard", "2950", "Contact made", None, 3),
    ("Hospital staff garden", "13400", "Proposal", "priya@greenleaf.example", 5),
    ("Golf club clubhouse planters", "3900", "Negotiation", "lena@greenleaf.example", 1),
    ("Art gallery sculpture garden", "6100", "Qualified", None, 16),
    ("Apartment block balcony service", "2100", "Contact made", "tom@greenleaf.example", 7),
]


def _deals(actor) -> None:
    """A pipeline that looks lived in: deals in every stage, a few rotting, won and lost."""
    from datetime import date, timedelta

    from sqlalchemy import func

    from app.core.models import utcnow
    from app.pipelines import deals, pipelines
    from app.pipelines.models import Contact, Deal

    if db.session.scalar(select(func.count()).select_from(Deal)):
        return
    pipeline = pipelines.default_pipeline()
    stages = {stage.name: stage for stage in pipeline.stages}
    staff = {user.email: user.id for user in db.session.scalars(select(User).where(User.is_cmmsn_agnt.is_(False)))}
    contacts = list(db.session.scalars(select(Contact).order_by(Contact.id).limit(len(DEALS))))
    now = utcnow()
    for n, (title, value, stage_name, email, days, *reason) in enumerate(reversed(DEALS)):
        stage = stages.get(stage_name) or pipeline.stages[0]
        data = {"title": title, "value": value, "stage_id": stage.id,
                "owner_id": staff.get(email, actor.user.id),
                "expected_close_date": (date.today() + timedelta(days=7 + (n * 5) % 60)).isoformat()}
        if reason:
            data["lost_reason"] = reason[0]
        if contacts:
            data["contact_id"] = contacts[n % len(contacts)].id
            if contacts[n % len(contacts)].account_id:
                data["account_id"] = contacts[n % len(contacts)].account_id
        deal = deals.create_deal(actor, data)
        deal.stage_entered_at = now - timedelta(days=days, hours=n)
        deal.created_at = deal.stage_entered_at - timedelta(days=(n * 3) % 25)
        if deal.closed_at is not None:
            deal.closed_at = deal.stage_entered_at
    db.session.flush()
