"""The timeline fragment (quick add, tick), My tasks and the search screens."""
import re

import pytest
from sqlalchemy import select

from app.core.events import OutboxEvent
from app.core.models import utcnow
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pipelines.models import Activity, Contact
from tests.conftest import make_user
from tests.pipelines.activity_rows import activity_row, add, add_activity, days, records

HX = {"HX-Request": "true"}
SALES = ["activities.view", "activities.create", "activities.update", "contacts.view", "deals.view"]


@pytest.fixture
def crm(app, acme):
    return records(app, acme, owner_id=acme.owner_id)


def activities_of(app, tenant):
    with app.app_context(), tenant_scope(tenant.business_id):
        rows = db.session.scalars(select(Activity).order_by(Activity.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


# --- the timeline fragment ---------------------------------------------------------------

def test_timeline_fragment_lists_activities_and_changes_newest_first(app, owner_browser, acme, crm):
    add_activity(app, acme, type="note", subject="First note", notes="<b>bold</b>\nsecond line",
                 owner_id=acme.owner_id, activityable_type="contact", activityable_id=crm["contact"],
                 created_at=days(-3))
    add_activity(app, acme, type="call", subject="Latest call", owner_id=acme.owner_id,
                 activityable_type="contact", activityable_id=crm["contact"], created_at=days(-1))
    add_activity(app, acme, type="call", subject="On another record", owner_id=acme.owner_id,
                 activityable_type="deal", activityable_id=crm["deal"])
    with app.app_context():
        db.session.add(OutboxEvent(business_id=acme.business_id, name="contact.updated",
                                   payload={"id": crm["contact"], "changes": ["email", "mobile_phone"]},
                                   created_at=days(-2), dispatched_at=utcnow()))
        db.session.commit()

    response = owner_browser.get(f"/pipelines/timeline/contact/{crm['contact']}", headers=HX)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<nav" not in html
    assert html.index("Latest call") < html.index("Changed email, mobile phone") < html.index("First note")
    assert "On another record" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;\nsecond line" in html and "<b>bold</b>" not in html
    assert "1 day ago" in html and re.search(r'<time datetime="[^"]+" title="\w{3} \d\d \w{3} \d{4}, \d\d:\d\d">', html)
    assert 'name="csrf_token"' in html and 'hx-post="/pipelines/timeline/contact/' in html
    assert html.count('data-testid="timeline-activity"') == 2


def test_timeline_of_each_kind(owner_browser, crm):
    for kind in ("contact", "account", "lead", "deal"):
        response = owner_browser.get(f"/pipelines/timeline/{kind}/{crm[kind]}", headers=HX)
        assert response.status_code == 200, kind
        assert "No activity yet." in response.get_data(as_text=True)


def test_timeline_without_htmx_is_a_page(owner_browser, crm):
    html = owner_browser.get(f"/pipelines/timeline/deal/{crm['deal']}").get_data(as_text=True)
    assert "<html" in html and "Garden makeover" in html and f'href="/pipelines/deals/{crm["deal"]}"' in html


def test_timeline_404s(app, owner_browser, browser_as, acme, globex, crm):
    theirs = records(app, globex, owner_id=globex.owner_id)
    assert owner_browser.get(f"/pipelines/timeline/contact/{theirs['contact']}", headers=HX).status_code == 404
    assert owner_browser.get("/pipelines/timeline/contact/99999", headers=HX).status_code == 404
    assert owner_browser.get(f"/pipelines/timeline/invoice/{crm['contact']}", headers=HX).status_code == 404
    assert owner_browser.post(f"/pipelines/timeline/deal/{theirs['deal']}", data={"subject": "x"},
                              headers=HX).status_code == 404
    make_user(app, acme, "rep@acme.example", permissions=SALES)
    rep = browser_as("rep@acme.example", "user-password")
    assert rep.get(f"/pipelines/timeline/contact/{crm['contact']}", headers=HX).status_code == 404
    assert activities_of(app, globex) == []


def test_quick_add_prepends_the_entry_and_resets_the_form(app, owner_browser, acme, crm):
    response = owner_browser.post(f"/pipelines/timeline/contact/{crm['contact']}", headers=HX, data={
        "type": "task", "subject": "Send brochure", "notes": "Both", "due_at": "2030-05-01T09:30"})

    assert response.status_code == 201
    html = response.get_data(as_text=True)
    assert html.index("Send brochure") < html.index('id="quick-add"')
    assert 'hx-swap-oob="true"' in html and 'value="Send brochure"' not in html
    assert 'aria-label="Mark done: Send brochure"' in html
    (row,) = activities_of(app, acme)
    assert (row.type, row.subject, row.activityable_type, row.activityable_id, row.owner_id) == (
        "task", "Send brochure", "contact", crm["contact"], acme.owner_id)
    assert row.due_at.replace(tzinfo=None).isoformat() == "2030-05-01T09:30:00"  # the business is on UTC
    with app.app_context():
        assert db.session.scalar(select(OutboxEvent).where(OutboxEvent.name == "activity.created")) is not None


def test_quick_add_errors_show_next_to_the_field(app, owner_browser, acme, crm):
    response = owner_browser.post(f"/pipelines/timeline/lead/{crm['lead']}", headers=HX,
                                  data={"type": "call", "subject": "", "notes": "kept"})
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#quick-add" and response.headers["HX-Reswap"] == "outerHTML"
    html = response.get_data(as_text=True)
    assert 'data-field-error="subject"' in html and "The subject field is required." in html
    assert ">kept</textarea>" in html and re.search(r'value="call" autocomplete="off"\s+checked', html)
    bad_date = owner_browser.post(f"/pipelines/timeline/lead/{crm['lead']}", headers=HX,
                                  data={"subject": "x", "due_at": "someday"})
    assert bad_date.status_code == 422 and "The due at must be a date and time." in bad_date.get_data(as_text=True)
    assert activities_of(app, acme) == []


def test_quick_add_without_javascript(app, owner_browser, acme, crm):
    response = owner_browser.post(f"/pipelines/timeline/deal/{crm['deal']}", data={"subject": "Called", "type": "call"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/pipelines/deals/{crm['deal']}")
    failed = owner_browser.post(f"/pipelines/timeline/deal/{crm['deal']}", data={"subject": ""})
    assert failed.status_code == 422 and "<html" in failed.get_data(as_text=True)
    assert [a.subject for a in activities_of(app, acme)] == ["Called"]


def test_quick_add_needs_the_permission(app, browser_as, acme):
    rep = make_user(app, acme, "viewer@acme.example", permissions=["activities.view", "contacts.view"])
    contact_id = add(app, acme, Contact(first_name="Own", owner_id=rep))[0]
    client = browser_as("viewer@acme.example", "user-password")
    html = client.get(f"/pipelines/timeline/contact/{contact_id}", headers=HX).get_data(as_text=True)
    assert 'id="quick-add"' not in html
    assert client.post(f"/pipelines/timeline/contact/{contact_id}", data={"subject": "x"},
                       headers=HX).status_code == 403


def test_tick_a_task_on_the_timeline(app, owner_browser, acme, globex, crm):
    task = add_activity(app, acme, type="task", subject="Follow up", owner_id=acme.owner_id,
                        activityable_type="contact", activityable_id=crm["contact"], due_at=days(1))
    response = owner_browser.post(f"/pipelines/activities/{task}/complete", data={"completed": "1"}, headers=HX)
    assert response.status_code == 200
    assert 'id="activity-' in response.get_data(as_text=True) and "is-done" in response.get_data(as_text=True)
    assert activity_row(app, task).completed and activity_row(app, task).completed_at is not None
    owner_browser.post(f"/pipelines/activities/{task}/complete", data={"completed": "0"}, headers=HX)
    assert not activity_row(app, task).completed and activity_row(app, task).completed_at is None
    theirs = add_activity(app, globex, type="task", owner_id=globex.owner_id)
    assert owner_browser.post(f"/pipelines/activities/{theirs}/complete", headers=HX).status_code == 404
    assert not activity_row(app, theirs).completed


# --- My tasks ----------------------------------------------------------------------------

@pytest.fixture
def my_tasks(app, acme, crm):
    me = acme.owner_id
    other = make_user(app, acme, "other@acme.example", permissions=SALES)
    return {
        "overdue": add_activity(app, acme, type="task", subject="Overdue quote", owner_id=me, due_at=days(-2),
                                activityable_type="contact", activityable_id=crm["contact"]),
        "overdue_call": add_activity(app, acme, type="call", subject="Overdue call", owner_id=me, due_at=days(-1),
                                     activityable_type="deal", activityable_id=crm["deal"]),
        "today": add_activity(app, acme, type="task", subject="Today task", owner_id=me, due_at=utcnow()),
        "upcoming": add_activity(app, acme, type="meeting", subject="Upcoming meeting", owner_id=me,
                                 starts_at=days(3)),
        "later": add_activity(app, acme, type="task", subject="Far away", owner_id=me, due_at=days(12)),
        "done": add_activity(app, acme, type="task", subject="Already done", owner_id=me, due_at=days(-1),
                             completed=True),
        "others": add_activity(app, acme, type="task", subject="Someone else's", owner_id=other, due_at=days(-1)),
    }


def _section(html: str, key: str) -> str:
    start = html.index(f'data-testid="tasks-{key}"')
    return html[start:html.index("</section>", start)]


def test_my_tasks_groups_and_title(owner_browser, my_tasks, crm):
    html = owner_browser.get("/pipelines/tasks").get_data(as_text=True)
    assert "<title>My tasks (2 overdue) · Trellis CRM</title>" in html
    overdue = _section(html, "overdue")
    assert "Overdue quote" in overdue and "Overdue call" in overdue
    assert f'href="/pipelines/contacts/{crm["contact"]}">Jane Doe</a>' in overdue
    assert f'href="/pipelines/deals/{crm["deal"]}">Garden makeover</a>' in overdue
    assert "Today task" in _section(html, "today")
    assert "Upcoming meeting" in _section(html, "upcoming")
    for absent in ("Far away", "Already done", "Someone else's"):
        assert absent not in html
    assert 'aria-current="page"' in html and 'href="/pipelines/tasks"' in html


def test_my_tasks_filter_by_type(owner_browser, my_tasks):
    response = owner_browser.get("/pipelines/tasks?type=call", headers=HX)
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Overdue call" in html and "Overdue quote" not in html
    assert "<title>My tasks (1 overdue) · Trellis CRM</title>" in html
    assert "Overdue quote" in owner_browser.get("/pipelines/tasks?type=bogus").get_data(as_text=True)


def test_tick_on_my_tasks_updates_row_count_and_title(app, owner_browser, my_tasks):
    response = owner_browser.post(f"/pipelines/activities/{my_tasks['overdue']}/complete",
                                  data={"completed": "1", "view": "tasks", "group": "overdue"}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="task-{my_tasks["overdue"]}"' in html and "is-done" in html and "Mark not done" in html
    assert re.search(r'id="overdue-count" hx-swap-oob="true">1</span>', html)
    assert "<title>My tasks (1 overdue) · Trellis CRM</title>" in html
    assert activity_row(app, my_tasks["overdue"]).completed
    plain = owner_browser.post(f"/pipelines/activities/{my_tasks['today']}/complete",
                               data={"completed": "1", "view": "tasks"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith("/pipelines/tasks")


def test_my_tasks_of_a_user_without_tasks(app, browser_as, acme):
    make_user(app, acme, "new@acme.example", permissions=["activities.view"])
    html = browser_as("new@acme.example", "user-password").get("/pipelines/tasks").get_data(as_text=True)
    assert "<title>My tasks · Trellis CRM</title>" in html and "Nothing overdue." in html


# --- search ------------------------------------------------------------------------------

def test_search_page_groups_results(app, owner_browser, acme, globex, crm):
    records(app, globex, owner_id=globex.owner_id)
    html = owner_browser.get("/pipelines/search?q=northwind").get_data(as_text=True)
    assert 'data-testid="results-contacts"' in html and 'data-testid="results-accounts"' in html
    assert f'href="/pipelines/contacts/{crm["contact"]}"' in html
    assert f'href="/pipelines/accounts/{crm["account"]}"' in html
    assert html.count("Jane Doe") == 1
    assert 'data-testid="results-deals"' not in html
    assert "Type at least 2 characters." in owner_browser.get("/pipelines/search?q=j").get_data(as_text=True)
    assert "Nothing matches" in owner_browser.get('/pipelines/search?q="*').get_data(as_text=True)


def test_header_dropdown_is_a_listbox(owner_browser, crm):
    html = owner_browser.get("/pipelines/search?q=jan&dropdown=1", headers=HX).get_data(as_text=True)
    assert 'role="listbox"' in html and html.count('role="option"') == 2  # Jane Doe + "see all"
    assert f'data-href="/pipelines/contacts/{crm["contact"]}"' in html
    assert "See all results" in html and "<html" not in html
    assert owner_browser.get("/pipelines/search?q=j&dropdown=1", headers=HX).get_data(as_text=True).strip() == ""


def test_header_search_box_only_for_users_who_can_search(app, owner_browser, browser_as, acme):
    html = owner_browser.get("/").get_data(as_text=True)
    assert 'id="global-search"' in html and 'hx-get="/pipelines/search"' in html and "delay:250ms" in html
    make_user(app, acme, "plain@acme.example", permissions=["locations.view"])
    client = browser_as("plain@acme.example", "user-password")
    assert 'id="global-search"' not in client.get("/").get_data(as_text=True)
    assert client.get("/pipelines/search?q=jane").status_code == 403


def test_forms_carry_csrf(app, owner_browser, crm):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert owner_browser.post(f"/pipelines/timeline/contact/{crm['contact']}",
                                  data={"subject": "x"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_audit_entries_show_as_changes_with_who(app, owner_browser, acme, crm):
    from app.core.audit import AuditEntry

    with app.app_context(), tenant_scope(acme.business_id):
        db.session.add_all([
            AuditEntry(actor_name="Priya Shah", entity_type="deal", entity_id=crm["deal"], action="updated",
                       before={"value": "1.00"}, after={"value": "2.00"}, created_at=days(-1)),
            AuditEntry(actor_name="Priya Shah", entity_type="contact", entity_id=crm["deal"], action="updated",
                       before={"email": "a"}, after={"email": "b"}),
        ])
        db.session.add(OutboxEvent(business_id=acme.business_id, name="deal.stage_changed",
                                   payload={"id": crm["deal"], "from_stage_name": "Qualified",
                                            "to_stage_name": "Proposal"}))
        db.session.add(OutboxEvent(business_id=acme.business_id, name="deal.updated", payload={"id": crm["deal"]}))
        db.session.commit()
    html = owner_browser.get(f"/pipelines/timeline/deal/{crm['deal']}", headers=HX).get_data(as_text=True)
    assert "Changed value by Priya Shah" in html
    assert "Moved from Qualified to Proposal" in html
    assert "Details updated" not in html  # the audit log already tells of updates
    assert "Changed email" not in html  # another kind's entry with the same id
