"""Settings screens: lead-capture forms (list, create, edit, rotate key, embed snippet) and the
inbound webhook secret (hint, regenerate shown once)."""
import html as html_lib
import re

from app.pipelines.models import CaptureForm, LeadWebhookSecret
from tests.conftest import make_user
from tests.leads_support import add_form, add_pipeline, rows

FORMS = "/pipelines/settings/capture-forms"
WEBHOOK = "/pipelines/settings/webhook"


def test_list_shows_own_forms(app, owner_browser, acme, globex):
    add_form(app, acme, name="Website <b>form</b>", allowed_origins=["https://shop.example"])
    add_form(app, globex, name="Globex form")
    html = owner_browser.get(FORMS).get_data(as_text=True)
    assert "Website &lt;b&gt;form&lt;/b&gt;" in html and "https://shop.example" in html
    assert "Globex form" not in html
    assert 'href="/pipelines/settings"' in html  # back to the settings index


def test_create_with_errors_next_to_fields_then_saved(app, owner_browser, acme):
    pipeline = add_pipeline(app, acme)
    page = owner_browser.get(f"{FORMS}/new").get_data(as_text=True)
    assert 'name="csrf_token"' in page and "Sales › Proposal" in page
    refused = owner_browser.post(f"{FORMS}/new", data={"name": "", "allowed_origins": "https://ok.example\nftp://x",
                                                       "honeypot_field": "website_url"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'data-field-error="name"' in body and "The name field is required." in body
    assert "Line 2: Each allowed origin must look like https://example.com" in body
    assert rows(app, CaptureForm) == []

    created = owner_browser.post(f"{FORMS}/new", data={
        "name": "Website", "allowed_origins": "https://Shop.example/\nhttps://www.shop.example",
        "stage_id": str(pipeline["stages"]["Proposal"]), "owner_id": str(acme.owner_id),
        "honeypot_field": "fax_number", "is_active": "y"})
    (form,) = rows(app, CaptureForm)
    assert created.status_code == 303 and created.headers["Location"] == f"{FORMS}/{form.id}"
    assert form.allowed_origins == ["https://shop.example", "https://www.shop.example"]
    assert (form.pipeline_id, form.stage_id, form.honeypot_field) == (pipeline["id"], pipeline["stages"]["Proposal"],
                                                                      "fax_number")


def test_edit_page_shows_snippet_with_honeypot_and_copy(app, owner_browser, acme):
    form_id, key = add_form(app, acme, name="Website", honeypot_field="fax_number")
    html = owner_browser.get(f"{FORMS}/{form_id}").get_data(as_text=True)
    snippet = html_lib.unescape(re.search(r'data-testid="embed-snippet">(.*?)</textarea>', html, re.S).group(1))
    assert f'<form action="http://localhost/api/v1/public/leads/{key}" method="post">' in snippet
    assert '<input type="text" name="fax_number" tabindex="-1" autocomplete="off" value="">' in snippet
    assert 'name="email"' in snippet
    assert 'data-copy="#embed-snippet"' in html


def test_the_snippet_posts_a_lead(app, owner_browser, client, acme):
    from app.pipelines.models import Lead

    form_id, key = add_form(app, acme, name="Website")
    response = client.post(f"/api/v1/public/leads/{key}", data={"name": "Web Visitor", "email": "v@example.com",
                                                                "website_url": "", "source": "website-form"})
    assert response.status_code == 201
    assert [lead.email for lead in rows(app, Lead)] == ["v@example.com"]


def test_edit_and_rotate_key(app, owner_browser, acme):
    form_id, key = add_form(app, acme, name="Website")
    saved = owner_browser.post(f"{FORMS}/{form_id}", data={"name": "Renamed", "allowed_origins": "",
                                                           "honeypot_field": "website_url"})
    assert saved.status_code == 303
    form = rows(app, CaptureForm)[0]
    assert (form.name, form.is_active) == ("Renamed", False)  # an unticked box is off

    rotated = owner_browser.post(f"{FORMS}/{form_id}/rotate-key")
    assert rotated.status_code == 303
    assert rows(app, CaptureForm)[0].key != key
    page = owner_browser.get(f"{FORMS}/{form_id}").get_data(as_text=True)
    assert "The old one no longer works" in page and 'data-confirm="Make a new key?' in page

    deleted = owner_browser.post(f"{FORMS}/{form_id}/delete")
    assert deleted.status_code == 303 and rows(app, CaptureForm) == []


def test_webhook_secret_shown_once(app, owner_browser, acme):
    page = owner_browser.get(WEBHOOK).get_data(as_text=True)
    assert "No secret yet" in page and "X-Webhook-Secret" in page
    made = owner_browser.post(WEBHOOK)
    body = made.get_data(as_text=True)
    secret = re.search(r'id="webhook-secret" value="([^"]+)"', body).group(1)
    assert made.headers["Cache-Control"] == "no-store"
    assert secret.startswith("whsec_") and f"X-Webhook-Secret: {secret}" in body  # in the curl example
    (row,) = rows(app, LeadWebhookSecret)
    again = owner_browser.get(WEBHOOK).get_data(as_text=True)
    assert secret not in again and f"…{row.hint}" in again and 'data-copy="#curl-example"' in again


def test_needs_crm_settings_and_other_business_404(app, browser_as, owner_browser, acme, globex):
    form_id, _ = add_form(app, globex, name="Globex form")
    assert owner_browser.get(f"{FORMS}/{form_id}").status_code == 404
    assert owner_browser.post(f"{FORMS}/{form_id}/rotate-key").status_code == 404
    assert owner_browser.post(f"{FORMS}/{form_id}/delete").status_code == 404
    make_user(app, acme, "sales@acme.example", permissions=["leads.view_all"])
    sales = browser_as("sales@acme.example", "user-password")
    for url in (FORMS, f"{FORMS}/new", WEBHOOK):
        assert sales.get(url).status_code == 403
    assert sales.post(WEBHOOK).status_code == 403
    assert rows(app, LeadWebhookSecret) == []
