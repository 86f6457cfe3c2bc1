"""Layout, CSRF on forms and htmx, HTML error pages, security headers, dashboard numbers."""
import re
from pathlib import Path

import pytest

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.locations.models import Location
from tests.conftest import make_token, make_user


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def _csrf_from_body(html: str) -> str:
    return re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', html).group(1)


def test_forms_without_csrf_token_are_refused(app, owner_browser, acme, csrf_on):
    response = owner_browser.post("/team/locations/new", data={"name": "No token"})
    assert response.status_code == 400
    assert "text/html" in response.content_type
    with app.app_context(), tenant_scope(acme.business_id):
        assert db.session.query(Location).count() == 0


def test_htmx_requests_carry_the_token_from_body(app, owner_browser, acme, csrf_on):
    token = _csrf_from_body(owner_browser.get("/").get_data(as_text=True))
    response = owner_browser.post("/team/locations/new", data={"name": "With token"},
                                  headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 302
    with app.app_context(), tenant_scope(acme.business_id):
        assert [loc.name for loc in db.session.query(Location)] == ["With token"]


def test_login_form_needs_csrf_too(client, acme, csrf_on):
    response = client.post("/login", data={"login": "owner@acme.example", "password": "owner-password"})
    assert response.status_code == 400


def test_api_is_csrf_exempt_and_ignores_session_cookies(app, owner_browser, acme, csrf_on):
    # A signed-in browser cookie is not an API credential (no CSRF, so no cookie auth).
    assert owner_browser.get("/api/v1/me").status_code == 401
    token = make_token(app, acme.owner_id)
    response = app.test_client().post("/api/v1/locations", json={"name": "Via API"},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201


def test_navigation_shows_areas_and_the_signed_in_user(owner_browser):
    html = owner_browser.get("/").get_data(as_text=True)
    for label in ("Dashboard", "Pipelines", "Team", "Campaigns", "Settings", "Owner Acme", "Acme Supplies"):
        assert label in html
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in html
    assert "/static/vendor/bootstrap-5.3.9/bootstrap.min.css" in html
    assert "https://" not in html.split("<body")[0]  # nothing from a CDN


def test_navigation_hides_team_without_permission(app, browser_as, acme):
    make_user(app, acme, "plain@acme.example", [])
    html = browser_as("plain@acme.example", "user-password").get("/").get_data(as_text=True)
    assert 'href="/team/users"' not in html and 'href="/team/locations/"' not in html


def test_dashboard_counts_what_exists(app, owner_browser, acme, globex):
    make_user(app, acme, "a@acme.example")
    make_user(app, acme, "b@acme.example", status="inactive")
    with app.app_context():
        with tenant_scope(acme.business_id):
            db.session.add_all([Location(name="One"), Location(name="Two", is_active=False)])
        with tenant_scope(globex.business_id):
            db.session.add(Location(name="Not ours"))
        db.session.commit()
    make_token(app, acme.owner_id)
    html = owner_browser.get("/").get_data(as_text=True)

    def stat(testid):
        card = html.split(f'data-testid="{testid}"')[1]
        return re.search(r'display-6[^>]*>(\d+)<', card).group(1)

    assert stat("stat-users") == "3"
    assert stat("stat-locations") == "2"
    assert stat("stat-tokens") == "1"
    assert stat("stat-signins") == "1"  # the owner, who just signed in
    assert "1 open" in html


def test_html_errors_stay_html(owner_browser, client):
    missing = owner_browser.get("/no-such-page")
    assert missing.status_code == 404 and "text/html" in missing.content_type
    assert "We could not find that page" in missing.get_data(as_text=True)
    wrong_method = owner_browser.put("/team/locations/")
    assert wrong_method.status_code == 405 and "text/html" in wrong_method.content_type
    assert "GET" in wrong_method.headers["Allow"]


PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self';"
               " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'")
NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def assert_security_headers(response, policy: str) -> None:
    assert response.headers["Content-Security-Policy"] == policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_security_headers(client):
    assert_security_headers(client.get("/login"), PAGE_POLICY)


def test_every_page_has_the_strict_content_security_policy(owner_browser):
    for path in ("/", "/pipelines/board", "/pipelines/contacts/", "/team/users", "/settings/tokens"):
        response = owner_browser.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response, PAGE_POLICY)
    partial = owner_browser.get("/team/locations/?q=ab", headers={"HX-Request": "true"})
    assert_security_headers(partial, PAGE_POLICY)


def test_error_pages_keep_the_headers(owner_browser, client, csrf_on):
    missing = owner_browser.get("/no-such-page")
    assert missing.status_code == 404
    assert_security_headers(missing, PAGE_POLICY)
    wrong_method = owner_browser.put("/team/locations/")
    assert wrong_method.status_code == 405
    assert_security_headers(wrong_method, PAGE_POLICY)
    no_token = owner_browser.post("/team/locations/new", data={"name": "x"})
    assert no_token.status_code == 400
    assert_security_headers(no_token, PAGE_POLICY)
    signed_out = client.get("/team/users")
    assert signed_out.status_code == 302
    assert_security_headers(signed_out, PAGE_POLICY)


def test_json_and_files_may_load_nothing(api, client):
    me = api.get("/api/v1/me")
    assert me.status_code == 200 and me.is_json
    assert_security_headers(me, NOTHING_POLICY)
    unauthenticated = client.get("/api/v1/me")
    assert unauthenticated.status_code == 401
    assert_security_headers(unauthenticated, NOTHING_POLICY)
    unknown = api.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404 and unknown.is_json
    assert_security_headers(unknown, NOTHING_POLICY)
    assert_security_headers(client.get("/api/v1/openapi.json"), NOTHING_POLICY)
    stylesheet = client.get("/static/css/app.css")
    assert stylesheet.status_code == 200
    assert_security_headers(stylesheet, NOTHING_POLICY)
    stylesheet.close()
    missing_file = client.get("/static/no-such-file.js")
    assert missing_file.status_code == 404
    assert "Referrer-Policy" in missing_file.headers and "X-Content-Type-Options" in missing_file.headers
    assert "Content-Security-Policy" in missing_file.headers


def test_api_docs_start_swagger_ui_from_a_file(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert_security_headers(response, PAGE_POLICY)
    html = response.get_data(as_text=True)
    assert inline_code(html) == []
    assert '<script src="/static/js/api_docs.js" defer></script>' in html
    assert '<script src="/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js" defer></script>' in html
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    # No badge image from the public validator: another site, which the policy refuses.
    assert """data-config='{"validatorUrl": null}'""" in html


# What the Content-Security-Policy refuses to run or apply, as it would appear in a template.
INLINE_CODE = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "<style> element": re.compile(r"<style\b", re.IGNORECASE),
    "on...= handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "hx-on (eval)": re.compile(r"\bhx-on\b", re.IGNORECASE),
    "hx-vars (eval)": re.compile(r"\bhx-vars\b", re.IGNORECASE),
    "js: value (eval)": re.compile(r"[\"'{]\s*js:", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "hx-trigger filter (eval)": re.compile(r"hx-trigger\s*=\s*(\"[^\"]*\[|'[^']*\[)", re.IGNORECASE),
}


def inline_code(html: str) -> list[str]:
    return [f"{name}: {match.group(0)!r}" for name, pattern in INLINE_CODE.items() for match in pattern.finditer(html)]


def test_the_inline_code_finder_finds_what_the_policy_refuses():
    for bad in ("<script>alert(1)</script>", "<button onclick=\"go()\">", "<div style=\"width: 4%\">",
                "<form hx-on::after-request=\"x()\">", "<a hx-vals='js:{a: 1}'>", "<a href=\"javascript:go()\">",
                "<input hx-trigger=\"keyup[key=='Enter']\">", "<style>p {}</style>", "<a hx-vals='{\"a\": \"js:1\"}'>"):
        assert inline_code(bad), bad
    assert inline_code('<script src="/static/js/app.js" defer></script> <a data-confirm="Sure?" hx-vals=\'{"a": 1}\'>') == []


def test_templates_have_no_inline_code():
    """Pages run under PAGE_POLICY: behaviour goes in static/js, looks in static/css.
    (E-mail bodies are not pages, but there is no reason for them to differ.)"""
    found = [f"{path.relative_to(TEMPLATES)}: {problem}" for path in sorted(TEMPLATES.rglob("*.html"))
             for problem in inline_code(path.read_text())]
    assert found == []


def test_coming_soon_areas_say_so_honestly(owner_browser):
    html = owner_browser.get("/campaigns").get_data(as_text=True)
    assert "Not available yet" in html


def test_pipelines_opens_the_board(owner_browser):
    response = owner_browser.get("/pipelines")
    assert response.status_code == 302 and response.headers["Location"].endswith("/pipelines/board")


def test_nul_characters_are_refused_not_crashed_on(client, api):
    html = client.post("/login", data={"login": "owner\x00@acme.example", "password": "x"})
    assert html.status_code == 400 and "text/html" in html.content_type
    assert client.get("/login?next=%00").status_code == 400
    json = api.post("/api/v1/locations", json={"name": "Bad\u0000name"})
    assert json.status_code == 400 and json.is_json


def test_back_button_restore_gets_the_whole_page(owner_browser):
    response = owner_browser.get("/team/locations/?q=ab", headers={"HX-Request": "true",
                                                                  "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_csrf_error_page_still_shows_the_signed_in_menu(owner_browser, csrf_on):
    response = owner_browser.post("/team/locations/new", data={"name": "x"})
    assert response.status_code == 400
    assert 'href="/team/users"' in response.get_data(as_text=True)


def test_sign_up_counts_as_a_sign_in(client):
    client.post("/signup", data={"business_name": "New Co", "first_name": "Nia", "email": "nia@newco.example",
                                 "password": "long-enough-pw"})
    html = client.get("/").get_data(as_text=True)
    card = html.split('data-testid="stat-signins"')[1]
    assert re.search(r'display-6[^>]*>(\d+)<', card).group(1) == "1"
