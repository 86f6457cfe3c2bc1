"""Settings → Business: the owner edits the profile and the switches; others cannot."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.team.models import Business
from tests.conftest import make_user

URL = "/settings/business"
VALID = {"name": "Acme Global", "currency": "gbp", "timezone": "Europe/London", "user_quota": "7",
         "enforce_subscription": "y", "subscription_status": "trialing", "demo_mode": "y",
         "decimal_separator": ","}


def business_row(app, business_id: int) -> Business:
    with app.app_context():
        row = db.session.scalar(select(Business).where(Business.id == business_id))
        db.session.expunge(row)
        return row


def field_errors(html: str) -> dict:
    return dict(re.findall(r'data-field-error="(\w+)">([^<]*)<', html))


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_form_shows_the_settings_and_what_each_switch_does(owner_browser):
    response = owner_browser.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="name"' in html and 'value="Acme Supplies"' in html and 'value="USD"' in html
    assert '<option selected value="UTC">UTC</option>' in html
    assert 'placeholder="Unlimited"' in html and "This business has 1 staff user now." in html
    assert "Nobody can add, change or delete staff users or roles (API answers 403)." in html
    assert "not active or trialing, nobody can add or change staff users (API answers 402)." in html
    assert "Adding one more is refused (API answers 422)." in html
    assert 'role="switch"' in html and 'name="csrf_token"' in html


def test_saving_stores_every_switch(app, owner_browser, acme):
    response = owner_browser.post(URL, data=VALID)
    assert response.status_code == 302 and response.headers["Location"] == URL
    row = business_row(app, acme.business_id)
    assert (row.name, row.currency, row.timezone, row.user_quota, row.enforce_subscription, row.subscription_status,
            row.demo_mode, row.decimal_separator) == (
        "Acme Global", "GBP", "Europe/London", 7, True, "trialing", True, ",")
    html = owner_browser.get(URL).get_data(as_text=True)
    assert "Business settings saved." in html and 'value="7"' in html


def test_unticked_switches_and_a_blank_quota_turn_things_off(app, owner_browser, acme):
    owner_browser.post(URL, data=VALID)
    off = {k: v for k, v in VALID.items() if k not in ("enforce_subscription", "demo_mode")}
    assert owner_browser.post(URL, data={**off, "user_quota": " "}).status_code == 302
    row = business_row(app, acme.business_id)
    assert row.user_quota is None and row.demo_mode is False and row.enforce_subscription is False


def test_errors_show_next_to_the_fields_and_nothing_is_saved(app, owner_browser, acme):
    response = owner_browser.post(URL, data={**VALID, "name": "", "currency": "ABC", "timezone": "Nowhere/Town",
                                             "user_quota": "ten", "subscription_status": "free"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == {
        "name": "The name field is required.",
        "currency": "The currency must be an ISO 4217 currency code, such as USD or EUR.",
        "timezone": "The timezone must be a valid time zone, such as Europe/London.",
        "user_quota": "The user quota must be a whole number, or empty for no limit.",
        "subscription_status": "The selected subscription status is invalid.",
    }
    row = business_row(app, acme.business_id)
    assert row.name == "Acme Supplies" and row.demo_mode is False


def test_negative_quota_is_refused(owner_browser):
    response = owner_browser.post(URL, data={**VALID, "user_quota": "-1"})
    assert field_errors(response.get_data(as_text=True)) == {"user_quota": "The user quota must be at least 0."}


def test_without_the_permission_the_page_is_403_and_not_linked(app, acme, browser_as):
    make_user(app, acme, "clerk@acme.example", ["locations.view"], password="clerk-password")
    clerk = browser_as("clerk@acme.example", "clerk-password")
    assert clerk.get(URL).status_code == 403
    assert clerk.post(URL, data=VALID).status_code == 403
    assert business_row(app, acme.business_id).name == "Acme Supplies"
    html = clerk.get("/settings/tokens").get_data(as_text=True)
    assert URL not in html and "/settings/audit-log" not in html


def test_owner_sees_the_links_in_settings_and_the_user_menu(owner_browser):
    html = owner_browser.get("/settings/tokens").get_data(as_text=True)
    assert html.count(f'href="{URL}"') == 2 and html.count('href="/settings/audit-log"') == 2


def test_the_form_needs_its_csrf_token(app, owner_browser, acme, csrf_on):
    assert owner_browser.post(URL, data=VALID).status_code == 400
    assert business_row(app, acme.business_id).name == "Acme Supplies"


def test_the_name_is_escaped(app, owner_browser, acme):
    owner_browser.post(URL, data={**VALID, "name": "<b>Bold</b> & Co"})
    html = owner_browser.get(URL).get_data(as_text=True)
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html
