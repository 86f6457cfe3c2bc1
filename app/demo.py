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
        _leads(owner)
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


# name, e-mail, phone, company, source, utm (source, medium, campaign), status, days ago, note
LEADS = [
    ("Hannah Whitfield", "hannah.whitfield@example.com", "+44 7700 900101", "Whitfield Landscaping", "website-form",
     ("google", "cpc", "spring-planting"), "new", 0, "Wants a quote for 40 raised beds."),
    ("Marcus Bell", "marcus@bellandcoarchitects.example", "+44 117 496 0781", "Bell & Co Architects", "website-form",
     ("google", "organic", None), "new", 1, "Green roof planting for an office block."),
    ("Aisha Rahman", "aisha.rahman@example.com", "+44 7700 900233", None, "instagram",
     ("instagram", "social", "balcony-gardens"), "new", 1, "Balcony makeover, small budget."),
    ("Tomasz Nowak", "tomasz@nowakbuild.example", "+44 7700 900318", "Nowak Build Ltd", "referral",
     (None, None, None), "contacted", 3, "Referred by Oliver Grant; new-build show homes."),
    ("Emily Carter", "emily.carter@stmarys-school.example", "+44 117 496 0442", "St Mary's Primary School",
     "trade-fair", (None, None, None), "qualified", 5, "School garden project, term-time delivery."),
    ("James O'Connor", "james@oconnor-cafe.example", "+44 7700 900555", "O'Connor's Café", "website-form",
     ("facebook", "social", "cafe-terraces"), "contacted", 6, "Terrace planters for outdoor seating."),
    ("Sophie Laurent", "sophie.laurent@example.fr", "+33 6 12 34 56 78", None, "website-form",
     ("newsletter", "email", "autumn-bulbs"), "new", 2, "Bulk bulb order for a community garden."),
    ("Daniel Okoro", "daniel@okoro-properties.example", "+44 7700 900677", "Okoro Properties", "phone",
     (None, None, None), "qualified", 9, "Maintenance contract for 6 rental gardens."),
    ("Grace Liu", "grace.liu@example.com", None, None, "webhook", ("zapier", "integration", None), "new", 0,
     "Signed up through the garden-planner quiz."),
    ("Rhys Morgan", "rhys@morganhotels.example", "+44 29 2018 0123", "Morgan Boutique Hotels", "trade-fair",
     (None, None, None), "contacted", 12, "Courtyard redesign at the Cardiff hotel."),
    ("Chloe Bennett", "chloe.bennett@example.com", "+44 7700 900799", None, "website-form",
     ("google", "cpc", "spring-planting"), "unqualified", 15, "Looking for a job, not a quote."),
    ("Ahmed Hassan", "ahmed@hassan-dental.example", "+44 117 496 0910", "Hassan Dental Practice", "referral",
     (None, None, None), "new", 4, "Waiting-room living wall."),
    ("Isabel Ferreira", "isabel.ferreira@example.pt", "+351 912 345 678", None, "instagram",
     ("instagram", "social", "balcony-gardens"), "contacted", 7, None),
    ("Oliver Shaw", "oliver.shaw@shawlegal.example", "+44 117 496 0333", "Shaw Legal LLP", "linkedin",
     ("linkedin", "social", "office-greenery"), "qualified", 10, "Office plants for 3 floors, monthly care."),
    ("Megan Price", "megan.price@example.com", "+44 7700 900880", None, "website-form",
     ("bing", "cpc", "spring-planting"), "new", 0, "Fruit trees for a small orchard."),
    ("Kwame Asante", "kwame@asante-events.example", "+44 7700 900912", "Asante Events", "phone",
     (None, None, None), "contacted", 8, "Plant hire for summer weddings."),
    ("Lucy Hughes", "lucy.hughes@bristolcouncil.example", "+44 117 922 2000", "Bristol City Council", "tender",
     (None, None, None), "qualified", 20, "Parks department spring tender."),
    ("Finn Murphy", "finn.murphy@example.ie", None, None, "webhook", ("zapier", "integration", None), "new", 1, None),
    ("Priyanka Patel", "priyanka@patelpharmacy.example", "+44 117 496 0555", "Patel Pharmacy", "website-form",
     ("google", "organic", None), "unqualified", 25, "Outside our delivery area."),
    ("George Adams", "george.adams@example.com", "+44 7700 900444", None, "newsletter",
     ("newsletter", "email", "autumn-bulbs"), "new", 3, "Asked about loyalty discounts."),
    ("Zara Ali", "zara@alistudio.example", "+44 7700 900321", "Ali Design Studio", "instagram",
     ("instagram", "social", "office-greenery"), "contacted", 5, "Moss wall for a studio reception."),
    ("William Turner", "will.turner@turnerfarm.example", "+44 1275 555 010", "Turner Farm Shop", "trade-fair",
     (None, None, None), "new", 11, "Seasonal stock for the farm shop."),
    ("Ella Robinson", "ella.robinson@example.com", "+44 7700 900654", None, "website-form",
     ("facebook", "social", "cafe-terraces"), "new", 0, None),
    ("Noah Green", "noah@greenspaceclinic.example", "+44 117 496 0199", "Greenspace Clinic", "referral",
     (None, None, None), "qualified", 14, "Therapy garden, accessibility needed."),
    ("Amelia Wright", "amelia.wright@example.com", "+44 7700 900765", None, "website-form",
     ("google", "cpc", "spring-planting"), "contacted", 2, "Hedge planting, 30 metres."),
]


def _leads(owner: User) -> None:
    """Leads from the website, referrals and fairs, and the website's capture form."""
    from datetime import timedelta

    from app.core.models import utcnow
    from app.pipelines.capture import new_form_key
    from app.pipelines.common import normalize_phone
    from app.pipelines.leads import split_name
    from app.pipelines.models import CaptureForm, Lead

    form = db.session.scalar(select(CaptureForm).where(CaptureForm.name == "Website enquiry form"))
    if form is None:
        form = CaptureForm(name="Website enquiry form", key=new_form_key(), owner_id=owner.id,
                           allowed_origins=["https://www.greenleaf.example", "https://greenleaf.example"],
                           honeypot_field="website_url", is_active=True)
        db.session.add(form)
        db.session.flush()
    known = set(db.session.scalars(select(Lead.email)))
    priya = db.session.scalar(select(User).where(User.email == "priya@greenleaf.example"))
    owners = [owner.id, priya.id if priya else owner.id]
    for n, (name, email, phone, company, source, utm, status, days, note) in enumerate(LEADS):
        if email in known:
            continue
        first, last = split_name(name)
        created = utcnow() - timedelta(days=days, hours=n)
        db.session.add(Lead(
            first_name=first, last_name=last, email=email, phone=normalize_phone(phone), company_name=company,
            source=source, utm_source=utm[0], utm_medium=utm[1], utm_campaign=utm[2], status=status,
            description=note, owner_id=owners[n % 2], custom_fields={}, created_at=created, updated_at=created,
            capture_form_id=form.id if source == "website-form" else None))
    db.session.flush()
