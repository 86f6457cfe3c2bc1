"""Full-text search: prefix words, e-mail, phone, company; tenancy and ownership; FTS
syntax in the query is only text; the index follows updates and deletes; and the
search runs through the full-text index, not a scan of the table."""
import pytest
from sqlalchemy import event, select, text

from app.core.listing import ListSpec, fetch_page
from app.core.models import utcnow
from app.core.permissions import actor_for
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pipelines import search
from app.pipelines.models import Account, Contact, Deal, Lead
from app.team.models import User
from tests.conftest import make_user
from tests.pipelines.activity_rows import add, add_deal, records

VIEW_ALL = ["contacts.view_all", "leads.view_all", "accounts.view_all", "deals.view_all"]


@pytest.fixture
def seeded(app, acme, globex):
    mine = records(app, acme, owner_id=acme.owner_id)
    add(app, acme, Contact(first_name="Janet", last_name="Mills", email="jm@other.example", home_phone="0161 496 0000"),
        Contact(first_name="Bob", last_name="Janeway", email="bob@example.com"),
        Lead(first_name="Ann", last_name="Lee", phone="+14155552671", company_name="Acme Rockets"),
        Account(name="Velvet Underground", phone="+44 20 7946 0958"))
    add_deal(app, acme, "Renewal 2027")
    # Globex has look-alikes that must never show up for Acme.
    records(app, globex, owner_id=globex.owner_id)
    add(app, globex, Contact(first_name="Jane", last_name="Globex", email="jane@globex.example",
                             mobile_phone="+441174960123"))
    return mine


def find(app, tenant, kind, q, user_id=None):
    """Names of the `kind` rows found for `q`, as the tenant's owner (or `user_id`) sees them."""
    with app.app_context(), tenant_scope(tenant.business_id):
        user = db.session.get(User, user_id or tenant.owner_id)
        found = search.global_search(actor_for(user), q, limit_per_kind=50)[kind]
        return sorted(r.title if kind == "deals" else r.name for r in found)


@pytest.mark.parametrize("q, expected", [
    ("jan", ["Bob Janeway", "Jane Doe", "Janet Mills"]),
    ("JANE", ["Bob Janeway", "Jane Doe", "Janet Mills"]),
    ("jane d", ["Jane Doe"]),
    ("doe jane", ["Jane Doe"]),
    ("jane.doe@northwind.example", ["Jane Doe"]),
    ("jane.doe@north", ["Jane Doe"]),
    ("bob@example", ["Bob Janeway"]),
    ("+44 117 496 0123", ["Jane Doe"]),
    ("0117 496 0123", ["Jane Doe"]),
    ("01174960123", ["Jane Doe"]),
    ("1174960", ["Jane Doe"]),
    ("0161 496", ["Janet Mills"]),
    ("northwind", ["Jane Doe"]),  # the company: the account's name
    ("jane northwind", ["Jane Doe"]),
    ("zzz", []),
])
def test_contacts_by_name_email_phone_and_company(app, acme, seeded, q, expected):
    assert find(app, acme, "contacts", q) == expected


def test_leads_accounts_and_deals(app, acme, seeded):
    assert find(app, acme, "leads", "velvet") == ["Lou Reed"]
    assert find(app, acme, "leads", "lou@velvet.example") == ["Lou Reed"]
    assert find(app, acme, "leads", "(415) 555") == ["Ann Lee"]
    assert find(app, acme, "leads", "acme rock") == ["Ann Lee"]
    assert find(app, acme, "accounts", "northwind.example") == ["Northwind Traders"]
    assert find(app, acme, "accounts", "020 7946 0958") == ["Velvet Underground"]
    assert find(app, acme, "accounts", "velv") == ["Velvet Underground"]
    assert find(app, acme, "deals", "garden make") == ["Garden makeover"]
    assert find(app, acme, "deals", "2027") == ["Renewal 2027"]


def test_another_business_never_appears(app, acme, globex, seeded):
    assert find(app, acme, "contacts", "globex") == []
    assert "Jane Globex" not in find(app, acme, "contacts", "jane")
    assert find(app, globex, "contacts", "jane") == ["Jane Doe", "Jane Globex"]
    assert find(app, globex, "contacts", "janet") == []
    assert find(app, globex, "deals", "renewal") == []


@pytest.mark.parametrize("q", ['"', '""', 'jane"', '"jane', '*', 'ja*', 'jane OR bob', 'OR', 'AND', 'NOT jane',
                               '-jane', 'jane -doe', 'NEAR(jane doe)', 'body:jane', '^jane', '(', ')', "'", "jane's",
                               ':*', 'jane:*', '& | !', '\\', '%', '_', '{}', '+', '--', 'jane & doe', "')--"])
def test_query_syntax_is_only_text(app, acme, seeded, q):
    with app.app_context(), tenant_scope(acme.business_id):
        actor = actor_for(db.session.get(User, acme.owner_id))
        results = search.global_search(actor, q)
    assert set(results) == {"contacts", "leads", "accounts", "deals"}
    if q in ("jane OR bob", "OR"):
        # "or" is a word to look for like any other, not an operator.
        assert all(not rows for rows in results.values())


def test_updates_and_deletes_are_reflected(app, acme, seeded):
    with app.app_context(), tenant_scope(acme.business_id):
        contact = db.session.get(Contact, seeded["contact"])
        contact.last_name, contact.email = "Smithers", "jane@southwind.example"
        account = db.session.get(Account, seeded["account"])
        account.name, account.domain = "Southwind Supplies", "southwind.example"
        db.session.delete(db.session.scalar(select(Lead).where(Lead.id == seeded["lead"])))
        db.session.commit()
    assert find(app, acme, "contacts", "doe") == []
    assert find(app, acme, "contacts", "smithers") == ["Jane Smithers"]
    assert find(app, acme, "contacts", "northwind") == []
    assert find(app, acme, "contacts", "southwind") == ["Jane Smithers"]
    assert find(app, acme, "leads", "lou") == []
    with app.app_context(), tenant_scope(acme.business_id):
        db.session.delete(db.session.get(Deal, seeded["deal"]))
        db.session.commit()
    assert find(app, acme, "deals", "garden") == []


def test_ownership_is_honoured(app, acme, seeded):
    rep = make_user(app, acme, "rep@acme.example", permissions=["contacts.view", "deals.view"])
    add(app, acme, Contact(first_name="Jane", last_name="Repsown", owner_id=rep))
    assert find(app, acme, "contacts", "jane", user_id=rep) == ["Jane Repsown"]
    assert find(app, acme, "leads", "lou", user_id=rep) == []  # no leads permission at all
    boss = make_user(app, acme, "boss@acme.example", permissions=VIEW_ALL)
    assert find(app, acme, "contacts", "jane", user_id=boss) == ["Bob Janeway", "Jane Doe", "Jane Repsown", "Janet Mills"]


def test_search_for_plugs_into_a_list_spec(app, acme, seeded):
    spec = ListSpec(name="SearchContact", sorts={"last_name": Contact.last_name}, default_sort="last_name",
                    search=(Contact.first_name,), search_with=search.search_for("contacts"))
    with app.app_context(), tenant_scope(acme.business_id):
        page = fetch_page(select(Contact), spec, spec.parse({"q": "jan"}))
        assert [c.name for c in page.items] == ["Jane Doe", "Bob Janeway", "Janet Mills"]
        assert page.total == 3
        empty = fetch_page(select(Contact), spec, spec.parse({"q": '""'}))
        assert empty.total == 0


def test_search_uses_the_full_text_index_not_a_scan(app, acme, globex, seeded):
    """EXPLAIN the statement the search really runs, with its parameters."""
    add(app, acme, *(Contact(first_name=f"Person{n}", last_name="Filler", email=f"p{n}@example.com")
                     for n in range(300)))
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "contacts" in statement and "search_contacts" in statement or "to_tsvector" in statement:
            statements.append((statement, parameters))

    with app.app_context(), tenant_scope(acme.business_id):
        actor = actor_for(db.session.get(User, acme.owner_id))
        engine = db.engine
        event.listen(engine, "before_cursor_execute", capture)
        try:
            stmt = search.search_for("contacts")(select(Contact), "jane doe")
            assert [c.name for c in db.session.scalars(stmt)] == ["Jane Doe"]
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        statement, parameters = statements[-1]
        # End the session's transaction first: outside a request it holds SQLite's write
        # lock (BEGIN IMMEDIATE, app.core.sqlite), which the second connection would wait for.
        db.session.rollback()
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                plan = " | ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                             parameters))
                assert "VIRTUAL TABLE INDEX" in plan and "search_contacts" in plan, plan
                assert "SCAN contacts" not in plan, plan  # rows are fetched by id, not scanned
            else:
                # With a handful of rows the planner rightly reads the business's few rows by
                # their business_id index; give the business a real address book first.
                conn.execute(Contact.__table__.insert(), [
                    {"business_id": acme.business_id, "first_name": f"Person{n}", "last_name": f"Family{n}",
                     "email": f"p{n}@example.com", "status": "Lead", "do_not_contact": False,
                     "custom_fields": {}, "version": 1, "created_at": utcnow(), "updated_at": utcnow()}
                    for n in range(5000)])
                conn.exec_driver_sql("ANALYZE contacts")
                conn.exec_driver_sql("ANALYZE accounts")
                plan = " | ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
                assert "ix_search_contacts" in plan, plan
        assert actor


def test_search_objects_exist_with_create_all(app):
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            names = {row[0] for row in db.session.execute(text("SELECT name FROM sqlite_master WHERE name LIKE 'search_%'"))}
            assert {"search_contacts", "search_leads", "search_accounts", "search_deals", "search_contacts_au",
                    "search_accounts_contacts_au"} <= names
