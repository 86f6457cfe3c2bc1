"""Public lead capture (seed 000): /api/v1/public/leads[/{key}] and the inbound webhook."""
import pytest

from app.pipelines.models import Lead
from tests.leads_support import add_form, events, rows

BODY = {"first_name": "Jane", "last_name": "Doe", "email": "jane@example.com", "phone": "+1234567890",
        "company_name": "Acme Inc", "description": "Interested in your services", "source": "website-form"}
TOO_MANY = {"message": "Too Many Attempts."}
SECRET = "/api/v1/lead-webhook-secret"
WEBHOOK = "/api/v1/public/webhooks/leads"


@pytest.fixture
def form(app, acme):
    return add_form(app, acme, name="Website", allowed_origins=["https://shop.example"])


def captured(lead_id: int, email: str | None = "jane@example.com", status: str = "new") -> dict:
    return {"success": True, "message": "Lead captured successfully.",
            "data": {"id": lead_id, "email": email, "status": status}}


def test_capture_with_key_in_path_answers_exactly(app, client, acme, form):
    form_id, key = form
    response = client.post(f"/api/v1/public/leads/{key}", json=BODY)

    assert response.status_code == 201, response.json
    (lead,) = rows(app, Lead)
    assert response.json == captured(lead.id)
    assert (lead.business_id, lead.first_name, lead.last_name, lead.company_name) == (acme.business_id, "Jane",
                                                                                      "Doe", "Acme Inc")
    assert (lead.capture_form_id, lead.source, lead.description) == (form_id, "website-form",
                                                                      "Interested in your services")
    assert [e.payload["id"] for e in events(app, "lead.created")] == [lead.id]


def test_capture_with_header_and_name_split(app, client, form):
    _, key = form
    response = client.post("/api/v1/public/leads", json={"name": "Mary Ann Smith", "email": "MARY@example.com"},
                           headers={"X-Capture-Key": key})
    assert response.status_code == 201
    (lead,) = rows(app, Lead)
    assert response.json == captured(lead.id, "mary@example.com")
    assert (lead.first_name, lead.last_name, lead.source) == ("Mary", "Ann Smith", "web-form")


def test_duplicate_open_lead_is_updated_not_duplicated(app, client, form):
    _, key = form
    first = client.post(f"/api/v1/public/leads/{key}", json={"name": "Jane Doe", "email": "jane@example.com"})
    second = client.post(f"/api/v1/public/leads/{key}", json={"email": "Jane@Example.com", "phone": "+44 20 7946 0958",
                                                               "description": "Second message"})
    assert first.status_code == second.status_code == 201
    (lead,) = rows(app, Lead)
    assert second.json == captured(lead.id)
    assert (lead.first_name, lead.phone, lead.description) == ("Jane", "+442079460958", "Second message")
    assert len(events(app, "lead.created")) == 1


def test_converted_lead_does_not_absorb_a_new_capture(app, client, acme, form):
    from tests.leads_support import add_leads

    add_leads(app, acme, {"email": "jane@example.com", "status": "converted"})
    _, key = form
    assert client.post(f"/api/v1/public/leads/{key}", json=BODY).status_code == 201
    assert [lead.status for lead in rows(app, Lead)] == ["converted", "new"]


def test_honeypot_hit_is_accepted_and_stores_nothing(app, client, form):
    _, key = form
    response = client.post(f"/api/v1/public/leads/{key}", json={**BODY, "website_url": "http://spam.example"})
    assert response.status_code == 201
    assert response.json["success"] is True and response.json["message"] == "Lead captured successfully."
    assert response.json["data"]["email"] == "jane@example.com" and response.json["data"]["status"] == "new"
    assert rows(app, Lead) == [] and events(app) == []


def test_plain_html_form_post(app, client, form):
    _, key = form
    response = client.post(f"/api/v1/public/leads/{key}", data={"name": "Form Person", "email": "fp@example.com",
                                                                 "website_url": ""},
                           headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 201
    assert "Thank you" in response.get_data(as_text=True)
    assert [lead.email for lead in rows(app, Lead)] == ["fp@example.com"]


def test_bad_input_is_422(app, client, form):
    _, key = form
    response = client.post(f"/api/v1/public/leads/{key}", json={"company_name": "No Name Ltd"})
    assert response.status_code == 422
    message = "The name field is required when email is not present."
    assert response.json == {"message": message, "errors": {"name": [message]}}
    bad_email = client.post(f"/api/v1/public/leads/{key}", json={"email": "nope"})
    assert bad_email.json == {"message": "The email must be a valid email address.",
                              "errors": {"email": ["The email must be a valid email address."]}}
    wrong_type = client.post(f"/api/v1/public/leads/{key}", json={"email": 5})
    assert wrong_type.status_code == 422 and wrong_type.json["errors"] == {"email": ["The email must be a string."]}
    assert rows(app, Lead) == []


def test_unknown_and_inactive_keys_are_404(app, client, acme):
    _, key = add_form(app, acme, name="Old", is_active=False)
    for response in (client.post(f"/api/v1/public/leads/{key}", json=BODY),
                     client.post("/api/v1/public/leads/no-such-key", json=BODY),
                     client.post("/api/v1/public/leads", json=BODY, headers={"X-Capture-Key": key}),
                     client.post("/api/v1/public/leads", json=BODY)):
        assert response.status_code == 404
        assert response.json == {"message": "Not found"}
    assert rows(app, Lead) == []


def test_key_of_business_a_creates_leads_only_in_a(app, client, acme, globex):
    _, acme_key = add_form(app, acme, name="A")
    add_form(app, globex, name="G")
    client.post(f"/api/v1/public/leads/{acme_key}", json=BODY)
    assert [lead.business_id for lead in rows(app, Lead)] == [acme.business_id]
    # Globex's open lead with the same e-mail is not touched by Acme's form.
    from tests.leads_support import add_leads

    add_leads(app, globex, {"email": "other@example.com", "owner_id": globex.owner_id})
    client.post(f"/api/v1/public/leads/{acme_key}", json={"email": "other@example.com", "first_name": "X"})
    assert sorted((lead.business_id, lead.first_name) for lead in rows(app, Lead, email="other@example.com")) == [
        (acme.business_id, "X"), (globex.business_id, None)]


def test_rate_limit_10_a_minute_per_ip(app, client, form):
    _, key = form
    for n in range(10):
        response = client.post(f"/api/v1/public/leads/{key}", json={"email": f"p{n}@example.com"})
        assert response.status_code == 201, (n, response.json)
        assert response.headers["X-RateLimit-Limit"] == "10"
    blocked = client.post("/api/v1/public/leads", json={"email": "p11@example.com"}, headers={"X-Capture-Key": key})
    assert blocked.status_code == 429
    assert blocked.json == TOO_MANY
    assert "Retry-After" in blocked.headers
    # Another IP has its own bucket.
    other = client.post(f"/api/v1/public/leads/{key}", json={"email": "q@example.com"},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 201
    assert len(rows(app, Lead)) == 11


def test_cors_only_for_allowed_origins(client, form):
    _, key = form
    url = f"/api/v1/public/leads/{key}"
    allowed = client.post(url, json=BODY, headers={"Origin": "https://shop.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    refused = client.post(url, json={**BODY, "email": "x@example.com"}, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 201  # a server-side post is fine; the browser just cannot read it
    assert "Access-Control-Allow-Origin" not in refused.headers

    preflight = client.options(url, headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    bad_preflight = client.options(url, headers={"Origin": "https://evil.example",
                                                 "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in bad_preflight.headers

    header_preflight = client.options("/api/v1/public/leads", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-capture-key"})
    assert header_preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "X-Capture-Key" in header_preflight.headers["Access-Control-Allow-Headers"]


def test_public_endpoints_are_documented_without_security(client):
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/public/leads/{key}", "/api/v1/public/leads", "/api/v1/public/webhooks/leads"):
        assert spec["paths"][path]["post"]["security"] == []
        assert "201" in spec["paths"][path]["post"]["responses"]
    assert "security" not in spec["paths"]["/api/v1/leads"]["get"]


# --- the inbound webhook --------------------------------------------------------------------


def _secret(api) -> str:
    response = api.post(SECRET)
    assert response.status_code == 201, response.json
    return response.json["data"]["secret"]


def test_webhook_secret_is_shown_once_and_stored_hashed(app, api, acme):
    from app.pipelines.models import LeadWebhookSecret

    assert api.get(SECRET).json["data"] == {"configured": False, "hint": None, "created_at": None,
                                            "created_by_id": None}
    secret = _secret(api)
    shown = api.get(SECRET).json["data"]
    assert shown["configured"] is True and shown["hint"] == secret[-4:] and "secret" not in shown
    (row,) = rows(app, LeadWebhookSecret)
    assert secret not in (row.secret_hash, row.hint) and len(row.secret_hash) == 64


def test_webhook_needs_the_secret(app, api, client, acme):
    secret = _secret(api)
    assert client.post(WEBHOOK, json=BODY).status_code == 401
    wrong = client.post(WEBHOOK, json=BODY, headers={"X-Webhook-Secret": "whsec_wrong"})
    assert wrong.status_code == 401
    assert wrong.json == {"message": "The X-Webhook-Secret header is missing or wrong."}
    response = client.post(WEBHOOK, json={"name": "Zap Person", "email": "zap@example.com"},
                           headers={"X-Webhook-Secret": secret})
    assert response.status_code == 201
    (lead,) = rows(app, Lead)
    assert response.json == captured(lead.id, "zap@example.com")
    assert (lead.business_id, lead.first_name, lead.source) == (acme.business_id, "Zap", "webhook")

    regenerated = _secret(api)
    assert client.post(WEBHOOK, json=BODY, headers={"X-Webhook-Secret": secret}).status_code == 401
    assert client.post(WEBHOOK, json=BODY, headers={"X-Webhook-Secret": regenerated}).status_code == 201


def test_webhook_rate_limit_30_a_minute(app, api, client):
    secret = _secret(api)
    for n in range(30):
        response = client.post(WEBHOOK, json={"email": f"w{n}@example.com"}, headers={"X-Webhook-Secret": secret})
        assert response.status_code == 201, n
    blocked = client.post(WEBHOOK, json={"email": "w31@example.com"}, headers={"X-Webhook-Secret": secret})
    assert blocked.status_code == 429 and blocked.json == TOO_MANY


def test_webhook_secret_endpoint_needs_crm_settings(app, api_as, acme):
    from tests.conftest import make_user

    user = api_as(make_user(app, acme, "sales@acme.example", permissions=["leads.view_all"]))
    assert user.get(SECRET).status_code == 403
    assert user.post(SECRET).json == {"message": "Unauthorized"}
