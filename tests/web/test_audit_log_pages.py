"""Settings → Audit log: readable before → after, filters and pages in the URL, htmx
fragments, permission, tenancy, escaping."""
import re

from sqlalchemy import select

from app.core.audit import AuditEntry
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.team.models import User
from tests.conftest import make_user

URL = "/settings/audit-log"


def rows(html: str) -> list[str]:
    return html.split('data-testid="audit-row"')[1:]


def test_owner_sees_changes_newest_first_with_who_and_how(owner_browser):
    owner_browser.post("/team/locations/new", data={"name": "Harbour Shop", "city": "Bristol"})
    html = owner_browser.get(URL).get_data(as_text=True)
    listed = rows(html)
    assert len(listed) == 5
    assert "Harbour Shop" in listed[0] and ">Created<" in listed[0]
    assert "Owner Acme" in listed[0] and ">Browser<" in listed[0] and "127.0.0.1" in listed[0]
    assert "System" in listed[-1] and "Acme Supplies" in listed[-1]
    assert 'data-field="city"' in listed[0] and "Bristol" in listed[0]


def test_an_update_shows_before_and_after(owner_browser):
    owner_browser.post("/settings/business", data={"name": "Acme Global", "currency": "USD", "timezone": "UTC",
                                                   "user_quota": "", "subscription_status": "active",
                                                   "decimal_separator": ".", "demo_mode": "y"})
    first = rows(owner_browser.get(URL).get_data(as_text=True))[0]
    assert ">Updated<" in first and "Acme Global" in first
    assert re.search(r'audit-before[^"]*">Acme Supplies</span>\s*<span aria-label="changed to">→</span>\s*'
                     r'<span class="audit-after[^"]*">Acme Global</span>', first)
    assert re.search(r'audit-before[^"]*">No</span>.*audit-after[^"]*">Yes</span>', first, re.S)  # demo mode


def test_a_role_permission_change_shows_added_and_removed_names(app, owner_browser, acme):
    owner_browser.post("/team/roles/new", data={"name": "Clerk", "permissions": ["locations.view", "roles.view"]})
    role_id = _role_id(app, acme, "Clerk")
    owner_browser.post(f"/team/roles/{role_id}/edit", data={"name": "Clerk", "permissions": ["roles.view",
                                                                                            "user.view"]})
    first = rows(owner_browser.get(f"{URL}?entity_type=role&action=updated").get_data(as_text=True))[0]
    assert 'title="Added">+ user.view</ins>' in first and 'title="Removed">− locations.view</del>' in first
    assert "locations.view, roles.view</span> → <span class=\"audit-after\">roles.view, user.view" in first


def _role_id(app, acme, name):
    from app.team.models import Role

    with app.app_context(), tenant_scope(acme.business_id):
        return db.session.scalar(select(Role.id).where(Role.name == f"{name}#{acme.business_id}"))


def test_a_password_change_shows_no_hash(app, owner_browser, acme):
    with app.app_context(), tenant_scope(acme.business_id):
        owner = db.session.get(User, acme.owner_id)
        owner.password_hash = "$argon2id$v=19$not-a-real-hash"
        db.session.commit()
    html = owner_browser.get(f"{URL}?entity_type=user").get_data(as_text=True)
    assert "changed (not shown)" in html and "argon2" not in html


def test_filters_live_in_the_url_and_pages_keep_them(app, owner_browser, acme):
    clerk = make_user(app, acme, "clerk@acme.example", ["locations.view"])
    for n in range(25):
        owner_browser.post("/team/locations/new", data={"name": f"Shop {n:02d}"})
    html = owner_browser.get(f"{URL}?entity_type=location&action=created&user_id={acme.owner_id}"
                             "&date_from=2000-01-01").get_data(as_text=True)
    assert len(rows(html)) == 20 and "Showing 1–20 of 25" in html
    assert 'href="/settings/audit-log?page=2&amp;per_page=20&amp;sort=created_at&amp;direction=desc' \
           '&amp;entity_type=location&amp;action=created&amp;user_id=' in html
    assert 'date_from=2000-01-01' in html
    assert f'<option value="{clerk}" >Clerk</option>' in html
    assert f'<option value="{acme.owner_id}" selected>Owner Acme</option>' in html
    assert '<option value="location" selected>Location</option>' in html
    assert len(rows(owner_browser.get(f"{URL}?q=shop 0").get_data(as_text=True))) == 10
    assert "No changes match." in owner_browser.get(f"{URL}?user_id={clerk}").get_data(as_text=True)


def test_bad_filters_fall_back_with_a_message(owner_browser):
    response = owner_browser.get(f"{URL}?date_from=2026-03-02&date_to=2026-03-01")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The date to must be a date after or equal to date from." in html and len(rows(html)) == 4


def test_htmx_gets_only_the_results(owner_browser):
    response = owner_browser.get(f"{URL}?action=created", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert "<html" not in html and 'data-testid="audit-table"' in html and len(rows(html)) == 4


def test_another_business_is_invisible(app, owner_browser, acme, globex):
    html = owner_browser.get(f"{URL}?per_page=100").get_data(as_text=True)
    assert "Globex" not in html and len(rows(html)) == 4
    with app.app_context():
        ids = db.session.scalars(select(AuditEntry.id).where(AuditEntry.business_id == globex.business_id)
                                 .execution_options(all_tenants=True)).all()
    assert all(f'data-entry-id="{i}"' not in html for i in ids)


def test_needs_audit_view(app, acme, browser_as):
    make_user(app, acme, "clerk@acme.example", ["locations.view"], password="clerk-password")
    assert browser_as("clerk@acme.example", "clerk-password").get(URL).status_code == 403
    make_user(app, acme, "auditor@acme.example", ["audit.view"], password="auditor-password")
    auditor = browser_as("auditor@acme.example", "auditor-password")
    html = auditor.get(URL).get_data(as_text=True)
    assert len(rows(html)) == 8 and 'href="/settings/audit-log"' in html and 'href="/settings/business"' not in html


def test_user_content_is_escaped(owner_browser):
    owner_browser.post("/team/locations/new", data={"name": "<script>alert(1)</script>"})
    html = owner_browser.get(URL).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_renamed_actor_shows_both_names(app, owner_browser, acme):
    owner_browser.post("/team/locations/new", data={"name": "Kiosk"})
    with app.app_context(), tenant_scope(acme.business_id):
        db.session.get(User, acme.owner_id).first_name = "Olivia"
        db.session.commit()
    first = rows(owner_browser.get(f"{URL}?entity_type=location").get_data(as_text=True))[0]
    assert "Owner Acme" in first and "(now Olivia Acme)" in first
