"""Settings → API tokens and Team → a user → API tokens."""
import hashlib
import re

from sqlalchemy import select

from app.auth.models import AccessToken
from app.extensions import db
from tests.conftest import make_token, make_user


def _tokens(app, **where):
    with app.app_context():
        stmt = select(AccessToken).filter_by(**where).execution_options(all_tenants=True)
        return db.session.scalars(stmt.order_by(AccessToken.id)).all()


def _shown_token(html: str) -> str:
    return re.search(r'value="(\d+\|[0-9a-f]{40})"', html).group(1)


def test_create_token_is_shown_once_and_stored_hashed(app, owner_browser, acme):
    response = owner_browser.post("/settings/tokens", data={"name": "Zapier", "expires_in": "30"})
    assert response.status_code == 200
    plain = _shown_token(response.get_data(as_text=True))
    [token] = _tokens(app, user_id=acme.owner_id)
    token_id, secret = plain.split("|")
    assert int(token_id) == token.id and token.name == "Zapier" and token.abilities == ["*"]
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.expires_at is not None

    again = owner_browser.get("/settings/tokens").get_data(as_text=True)
    assert secret not in again and "Zapier" in again
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert me.status_code == 200


def test_htmx_create_returns_the_panel_fragment(owner_browser):
    response = owner_browser.post("/settings/tokens", data={"name": "Make"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="token-panel">')
    assert "Make" in html


def test_create_token_errors_are_inline(app, owner_browser, acme):
    response = owner_browser.post("/settings/tokens", data={"name": ""})
    assert response.status_code == 422
    assert "The name field is required." in response.get_data(as_text=True)
    assert _tokens(app) == []


def test_abilities_narrow_and_cannot_exceed_the_role(app, browser_as, acme):
    make_user(app, acme, "clerk@acme.example", ["locations.view", "locations.create"])
    clerk = browser_as("clerk@acme.example", "user-password")
    page = clerk.get("/settings/tokens").get_data(as_text=True)
    assert 'value="locations.view"' in page and 'value="user.delete"' not in page
    beyond = clerk.post("/settings/tokens", data={"name": "Too much", "abilities": ["user.delete"]})
    assert beyond.status_code == 422 and _tokens(app, name="Too much") == []
    ok = clerk.post("/settings/tokens", data={"name": "Read only", "abilities": ["locations.view"]})
    assert ok.status_code == 200
    [token] = _tokens(app, name="Read only")
    assert token.abilities == ["locations.view"]


def test_revoke_with_htmx_swaps_the_row_and_kills_the_token(app, owner_browser, acme):
    plain = make_token(app, acme.owner_id, name="CI")
    [token] = _tokens(app, name="CI")
    response = owner_browser.post(f"/settings/tokens/{token.id}/revoke", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith(f'<tr id="token-{token.id}"')
    assert "Revoked" in html
    assert _tokens(app, name="CI")[0].revoked_at is not None
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_admin_manages_another_users_tokens(app, owner_browser, acme):
    clerk_id = make_user(app, acme, "clerk@acme.example", ["locations.view"])
    assert "clerk@acme.example" in owner_browser.get("/team/users").get_data(as_text=True)
    response = owner_browser.post(f"/team/users/{clerk_id}/tokens", data={"name": "Till"})
    assert response.status_code == 200
    [token] = _tokens(app, user_id=clerk_id)
    assert token.name == "Till"
    page = owner_browser.get(f"/team/users/{clerk_id}/tokens").get_data(as_text=True)
    assert "API tokens of Clerk" in page and "Till" in page
    revoke = owner_browser.post(f"/settings/tokens/{token.id}/revoke",
                                data={"next": f"/team/users/{clerk_id}/tokens"})
    assert revoke.status_code == 302 and revoke.headers["Location"] == f"/team/users/{clerk_id}/tokens"


def test_non_admin_cannot_touch_other_users_tokens(app, browser_as, acme):
    make_user(app, acme, "clerk@acme.example", ["locations.view"])
    owner_token = make_token(app, acme.owner_id, name="Owner's")
    clerk = browser_as("clerk@acme.example", "user-password")
    assert clerk.get(f"/team/users/{acme.owner_id}/tokens").status_code == 403
    assert clerk.post(f"/team/users/{acme.owner_id}/tokens", data={"name": "x"}).status_code == 403
    [token] = _tokens(app, name="Owner's")
    assert clerk.post(f"/settings/tokens/{token.id}/revoke").status_code == 403
    assert _tokens(app, name="Owner's")[0].revoked_at is None
    assert owner_token


def test_other_business_users_and_tokens_are_404(app, owner_browser, globex):
    make_token(app, globex.owner_id, name="Globex token")
    [token] = _tokens(app, name="Globex token")
    assert owner_browser.get(f"/team/users/{globex.owner_id}/tokens").status_code == 404
    assert owner_browser.post(f"/settings/tokens/{token.id}/revoke").status_code == 404
    assert _tokens(app, name="Globex token")[0].revoked_at is None
