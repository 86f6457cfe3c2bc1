"""Demo data: a small business that looks real. Each feature adds its own part here."""
from sqlalchemy import select

from app.auth.services import find_login_user, sign_up
from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.locations import services as locations
from app.locations.models import Location
from app.pipelines import demo_contacts
from app.team import agents, roles, users
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
    # first name, last name, e-mail, role, locations (codes; None: all), signs in
    ("Priya", "Shah", "priya@greenleaf.example", "Shop Manager", None, True),
    ("Tom", "Okafor", "tom@greenleaf.example", "Cashier", ["HS01"], True),
    ("Lena", "Fischer", "lena@greenleaf.example", "Cashier", ["HS01", "MH02"], True),
    ("Sam", "Ortiz", "sam@greenleaf.example", "Garden Designer", None, False),
]
ROLES = [
    {"name": "Shop Manager", "is_service_staff": False,
     "permissions": ["locations.view", "locations.create", "locations.update", "user.view", "roles.view",
                     *(f"{kind}.{verb}" for kind in ("contacts", "accounts", "leads", "deals", "activities")
                       for verb in ("view", "view_all", "create", "update")),
                     "leads.convert", "crm.export"]},
    {"name": "Garden Designer", "is_service_staff": True,
     "permissions": ["locations.view", "contacts.view", "deals.view", "deals.create", "deals.update",
                     "activities.view", "activities.create", "activities.update"]},
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
        _staff(actor)
        _agents(actor)
        demo_contacts.fill(actor)
        _deals(actor)  # after the contacts: deals link to them
        _leads(owner)
        _activities(actor)  # last: on the contacts, accounts, leads and deals made above
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


def _staff(actor) -> None:
    by_name = {role.name_key: role.id for role in db.session.scalars(select(Role))}
    by_code = {location.code: location.id for location in db.session.scalars(select(Location))}
    for first, last, email, role_name, codes, signs_in in STAFF:
        if db.session.scalar(select(User).where(User.email == email)) is not None:
            continue
        access = {"scope": "locations", "location_ids": [by_code[c] for c in codes]} if codes else {"scope": "all"}
        login = {"allow_login": True, "username": email, "password": "demo-password"} if signs_in else {}
        users.create_user(actor, {"first_name": first, "last_name": last, "email": email, "role": by_name[role_name],
                                  "location_access": access, **login})


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
    agents = list(db.session.scalars(select(User.id).where(User.is_cmmsn_agnt.is_(True)).order_by(User.id)))
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
        if deal.status == "won" and agents:  # referred by an agent: on their commission statement
            deal.commission_agent_id = agents[n % len(agents)]
    db.session.flush()


# Activities on whatever CRM records exist when the demo runs: a history of notes and
# calls, and open tasks for the demo user (some overdue, some today, some next week).
ACTIVITY_PLANS = {
    "contact": [
        {"type": "note", "subject": "Met at the Spring Garden Show", "notes": "Keen on raised beds.\nHas a south-facing plot.",
         "ago": 20},
        {"type": "call", "subject": "Intro call", "notes": "Wants a quote before the end of the month.", "ago": 9,
         "completed": True},
        {"type": "task", "subject": "Send the planting brochure", "due": -2},
    ],
    "account": [
        {"type": "meeting", "subject": "Quarterly review", "notes": "Agreed to trial the organic compost range.",
         "ago": 14, "completed": True},
        {"type": "task", "subject": "Check credit terms", "due": 3},
    ],
    "lead": [
        {"type": "call", "subject": "First call, left a voicemail", "ago": 3, "completed": True},
        {"type": "task", "subject": "Call back", "due": 0},
    ],
    "deal": [
        {"type": "note", "subject": "Budget confirmed", "notes": "Around the quoted value; decision next week.",
         "ago": 6},
        {"type": "task", "subject": "Follow up on the quote", "due": -1},
        {"type": "meeting", "subject": "Site visit", "due": 5},
    ],
}


def _activities(actor) -> None:
    from datetime import timedelta

    from app.core.models import utcnow
    from app.pipelines import activities
    from app.pipelines.models import Account, Activity, Contact, Deal, Lead

    done = {(kind, rid) for kind, rid in db.session.execute(
        select(Activity.activityable_type, Activity.activityable_id).distinct())}
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    for kind, model in (("contact", Contact), ("account", Account), ("lead", Lead), ("deal", Deal)):
        for index, record_id in enumerate(db.session.scalars(select(model.id).order_by(model.id).limit(8))):
            if (kind, record_id) in done:
                continue
            plans = ACTIVITY_PLANS[kind]
            for plan in plans[: len(plans) - index % len(plans)]:
                data = {k: plan.get(k) for k in ("type", "subject", "notes", "completed")}
                if "due" in plan:
                    data["due_at"] = (now + timedelta(days=plan["due"], hours=2))
                activity = activities.create_activity(actor, {**data, "activityable_type": kind,
                                                              "activityable_id": record_id})
                if "ago" in plan:  # a history, not everything logged just now
                    activity.created_at = now - timedelta(days=plan["ago"], hours=index)
    db.session.flush()


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
