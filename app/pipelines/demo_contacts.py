"""Demo accounts and contacts of Greenleaf Garden Supplies (`flask demo-data`). Idempotent:
accounts are matched by name, contacts by e-mail, fields by key."""
from sqlalchemy import select

from app.extensions import db
from app.pipelines import accounts, contacts, custom_fields
from app.pipelines.models import Account, Contact, ContactStatus, CustomField
from app.team.models import User

FIELDS = [
    {"entity": "contact", "key": "garden_size", "label": "Garden size", "type": "choice",
     "options": ["Balcony", "Small", "Medium", "Large", "Estate"]},
    {"entity": "contact", "key": "newsletter", "label": "Newsletter", "type": "checkbox"},
    {"entity": "contact", "key": "first_order", "label": "First order", "type": "date"},
    {"entity": "account", "key": "employees", "label": "Employees", "type": "number"},
    {"entity": "account", "key": "account_type", "label": "Account type", "type": "choice",
     "options": ["Trade", "Hospitality", "Education", "Public sector"]},
]

ACCOUNTS = [
    ("Avon Valley Landscapes", "avonvalleylandscapes.co.uk", "Landscaping", "+44 117 496 0201", "Bristol", 18, "Trade"),
    ("The Orangery Café", "orangerycafe.co.uk", "Hospitality", "+44 117 496 0234", "Bristol", 9, "Hospitality"),
    ("Clifton Primary School", "cliftonprimary.sch.uk", "Education", "+44 117 496 0310", "Bristol", 45, "Education"),
    ("Harbourside Hotel", "harboursidehotel.co.uk", "Hospitality", "+44 117 496 0402", "Bristol", 120, "Hospitality"),
    ("Bath Botanical Society", "bathbotanical.org.uk", "Charity", "+44 1225 496 011", "Bath", 6, None),
    ("Greenway Property Management", "greenwaypm.co.uk", "Property", "+44 117 496 0555", "Bristol", 32, "Trade"),
    ("Stokes Croft Studios", "stokescroftstudios.com", "Creative", "+44 117 496 0678", "Bristol", 14, None),
    ("South Glos Council Parks", "southglos.gov.uk", "Public sector", "+44 1454 868 009", "Yate", 300, "Public sector"),
    ("Redland Dental Practice", "redlanddental.co.uk", "Healthcare", "+44 117 496 0789", "Bristol", 11, None),
    ("Wells Road Allotments", "wellsroadallotments.org", "Community", None, "Bristol", 2, None),
    ("Mendip Tree Surgeons", "mendiptrees.co.uk", "Landscaping", "+44 1749 496 020", "Wells", 7, "Trade"),
    ("Kingsdown Care Home", "kingsdowncare.co.uk", "Healthcare", "+44 117 496 0890", "Bristol", 60, None),
]

# first, last, e-mail, mobile, status, account, tags, owner (index into owners), garden size
CONTACTS = [
    ("Sam", "Whitfield", "sam@avonvalleylandscapes.co.uk", "07700 900011", "Customer", 0, ["trade", "repeat"], 1, "Estate"),
    ("Rosa", "Delgado", "rosa@avonvalleylandscapes.co.uk", "07700 900012", "Customer", 0, ["trade"], 1, None),
    ("Imogen", "Hart", "imogen@orangerycafe.co.uk", "07700 900013", "Customer", 1, ["hospitality", "repeat"], 0, "Small"),
    ("Dev", "Patel", "dev@orangerycafe.co.uk", "07700 900014", "Lead", 1, ["hospitality"], 0, None),
    ("Helen", "Morris", "h.morris@cliftonprimary.sch.uk", "+44 117 496 0311", "Customer", 2, ["school", "grant"], 2, "Large"),
    ("Gareth", "Lloyd", "bursar@cliftonprimary.sch.uk", "+44 117 496 0312", "Lead", 2, ["school"], 2, None),
    ("Chloé", "Martin", "chloe.martin@harboursidehotel.co.uk", "07700 900015", "Customer", 3, ["hospitality", "vip"], 0, "Estate"),
    ("Marcus", "Brown", "events@harboursidehotel.co.uk", "07700 900016", "Lead", 3, ["hospitality", "events"], 0, None),
    ("Agnes", "Fairweather", "agnes@bathbotanical.org.uk", "+44 1225 496 012", "Partner", 4, ["charity", "newsletter"], 3, "Medium"),
    ("Oliver", "Quinn", "oliver.quinn@greenwaypm.co.uk", "07700 900017", "Customer", 5, ["trade", "contract"], 1, "Large"),
    ("Fatima", "Rahman", "fatima@greenwaypm.co.uk", "07700 900018", "Lead", 5, ["trade"], 1, None),
    ("Ned", "Carver", "ned@stokescroftstudios.com", "07700 900019", "Lead", 6, ["creative"], 2, "Balcony"),
    ("Jo", "Atkinson", "parks@southglos.gov.uk", "+44 1454 868 010", "Lead", 7, ["tender", "public sector"], 0, None),
    ("Priti", "Kaur", "reception@redlanddental.co.uk", "07700 900020", "Customer", 8, ["plants-on-subscription"], 3, "Small"),
    ("Bill", "Ashworth", "secretary@wellsroadallotments.org", None, "Partner", 9, ["community", "newsletter"], 3, "Medium"),
    ("Tamsin", "Yeo", "tamsin@mendiptrees.co.uk", "07700 900021", "Customer", 10, ["trade", "repeat"], 1, None),
    ("Grace", "Oduya", "manager@kingsdowncare.co.uk", "+44 117 496 0891", "Lead", 11, ["healthcare"], 2, "Medium"),
    ("Eleanor", "Pike", "eleanor.pike@example.com", "07700 900101", "Customer", None, ["retail", "newsletter", "repeat"], 3, "Small"),
    ("Tom", "Radley", "tom.radley@example.com", "07700 900102", "Customer", None, ["retail"], 3, "Medium"),
    ("Aisha", "Begum", "aisha.begum@example.com", "07700 900103", "Lead", None, ["retail", "newsletter"], 2, "Balcony"),
    ("Frank", "Ellis", "frank.ellis@example.com", None, "Customer", None, ["retail", "workshop"], 3, "Large"),
    ("Mei", "Chen", "mei.chen@example.com", "07700 900104", "Lead", None, ["workshop"], 2, "Small"),
    ("George", "Barker", "g.barker@example.com", "07700 900105", "Customer", None, ["retail", "repeat", "vip"], 0, "Estate"),
    ("Lucy", "Fenwick", "lucy.fenwick@example.com", "07700 900106", "Lead", None, ["newsletter"], 3, None),
    ("Kwame", "Mensah", "kwame.mensah@example.com", "07700 900107", "Customer", None, ["retail"], 1, "Medium"),
    ("Hannah", "Cole", "hannah.cole@example.com", "07700 900108", "Lead", None, ["workshop", "newsletter"], 2, "Small"),
    ("Ruth", "Adeyemi", "ruth.adeyemi@example.com", None, "Customer", None, ["retail"], 0, "Medium"),
    ("Peter", "Novak", "peter.novak@example.com", "07700 900109", "Lead", None, [], 1, None),
    ("Sophie", "Lambert", "sophie.lambert@example.com", "07700 900110", "Customer", None, ["retail", "repeat"], 3, "Small"),
    ("Callum", "Reid", "callum.reid@example.com", "07700 900111", "Lead", None, ["events"], 0, None),
    ("Zara", "Hussain", "zara.hussain@example.com", "07700 900112", "Customer", None, ["retail", "newsletter"], 2, "Balcony"),
    ("Ian", "Prosser", "ian.prosser@example.com", None, "Lead", None, ["trade"], 1, None),
    ("Nora", "Kelly", "nora.kelly@example.com", "07700 900113", "Customer", None, ["retail", "vip"], 0, "Large"),
    ("Dan", "Whitaker", "dan.whitaker@example.com", "07700 900114", "Lead", None, ["workshop"], 3, "Medium"),
]


def fill(actor) -> None:
    _fields(actor)
    if db.session.scalar(select(ContactStatus).where(ContactStatus.name == "Partner")) is None:
        contacts.create_status(actor, "Partner")
    owners = _owners(actor)
    by_name = _accounts(actor, owners)
    _contacts(actor, owners, by_name)


def _fields(actor) -> None:
    known = {(f.entity, f.key) for f in db.session.scalars(select(CustomField))}
    for data in FIELDS:
        if (data["entity"], data["key"]) not in known:
            custom_fields.create_field(actor, data)


def _owners(actor) -> list[int]:
    """The owner first, then the demo staff (as many as exist)."""
    emails = ["priya@greenleaf.example", "tom@greenleaf.example", "lena@greenleaf.example"]
    staff = {u.email: u.id for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    return [actor.user.id] + [staff.get(e, actor.user.id) for e in emails]


def _accounts(actor, owners) -> dict[str, int]:
    existing = {a.name: a.id for a in db.session.scalars(select(Account))}
    for n, (name, domain, industry, phone, city, employees, kind) in enumerate(ACCOUNTS):
        if name in existing:
            continue
        custom = {"employees": employees} | ({"account_type": kind} if kind else {})
        account = accounts.create_account(actor, {
            "name": name, "domain": domain, "website": f"https://{domain}", "industry": industry, "phone": phone,
            "city": city, "country": "United Kingdom", "owner_id": owners[n % len(owners)], "custom_fields": custom})
        existing[name] = account.id
    return existing


def _contacts(actor, owners, account_ids) -> None:
    known = {e.lower() for e in db.session.scalars(select(Contact.email)) if e}
    for n, (first, last, email, mobile, status, account, tags, owner, garden) in enumerate(CONTACTS):
        if email.lower() in known:
            continue
        custom = {"newsletter": "newsletter" in tags} | ({"garden_size": garden} if garden else {})
        if status == "Customer":
            custom["first_order"] = f"2025-{(n % 12) + 1:02d}-{(n % 27) + 1:02d}"
        contacts.create_contact(actor, {
            "first_name": first, "last_name": last, "email": email, "mobile_phone": mobile, "status": status,
            "account_id": account_ids[ACCOUNTS[account][0]] if account is not None else None, "tags": tags,
            "owner_id": owners[owner % len(owners)], "city": "Bristol" if n % 3 else "Bath",
            "country": "United Kingdom", "source": ("referral", "website", "walk-in", "trade show")[n % 4],
            "custom_fields": custom, "do_not_contact": n == 27})
