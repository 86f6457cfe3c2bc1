"""Issue 8 on the HTML face: the users, roles and tokens screens hand out nothing the
signed-in person lacks, never set a colleague's password, and say why they refuse."""
import html as html_lib
from pathlib import Path

import pytest
from sqlalchemy import select

from app.auth.models import AccessToken
from app.extensions import db
from tests.conftest import make_user
from tests.escalation_support import build_scene, role_id


def _user(app, user_id):
    from app.team.models import User

    with app.app_context():
        row = db.session.scalar(select(User).where(User.id == user_id).execution_options(all_tenants=True))
        db.session.expunge(row)
        return row


def _tokens_of(app, user_id):
    with app.app_context():
        stmt = select(AccessToken).where(AccessToken.user_id == user_id).execution_options(all_tenants=True)
        return db.session.scalars(stmt).all()


def _text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


@pytest.fixture
def scene(app, acme):
    return build_scene(app, acme, ["user.view", "user.update"])


@pytest.fixture
def mallory(browser_as, scene):
    return browser_as("mallory@acme.example", "user-password")


def test_staff_cannot_make_themselves_admin_in_the_form(app, mallory, scene):
    response = mallory.post(f"/team/users/{scene.attacker}/edit", data={
        "first_name": "Mallory", "role": str(scene.admin_role), "location_access": "all", "allow_login": "y",
        "is_active": "y"})
    assert response.status_code == 403
    assert "Changing a user's role needs the user.assign_role permission." in _text(response)
    assert _user(app, scene.attacker).role_id == scene.attacker_role


def test_no_token_for_the_owner(app, mallory, scene):
    before = len(_tokens_of(app, scene.owner))
    response = mallory.post(f"/team/users/{scene.owner}/tokens", data={"name": "mine now"})
    assert response.status_code == 403
    assert len(_tokens_of(app, scene.owner)) == before


def test_no_token_for_the_owner_even_with_user_tokens(app, acme, browser_as):
    scene = build_scene(app, acme, ["user.view", "user.update", "user.tokens"])
    client = browser_as("mallory@acme.example", "user-password")
    response = client.post(f"/team/users/{scene.owner}/tokens", data={"name": "mine now"})
    assert response.status_code == 403
    assert "Only the business owner can change the owner's account." in _text(response)
    assert client.post(f"/team/users/{scene.admin2}/tokens", data={"name": "x"}).status_code == 403
    # A colleague holding nothing more than Mallory: allowed, and the token is theirs.
    colleague = make_user(app, acme, "colleague@acme.example", role_name="Staff")
    response = client.post(f"/team/users/{colleague}/tokens", data={"name": "for them"})
    assert response.status_code == 200
    assert [t.name for t in _tokens_of(app, colleague)] == ["for them"]


def test_another_admins_password_is_not_theirs_to_set(app, mallory, scene, browser_as):
    before = _user(app, scene.admin2).password_hash
    response = mallory.post(f"/team/users/{scene.admin2}/edit", data={
        "first_name": "Second", "email": "second.admin@acme.example", "role": str(scene.admin_role),
        "location_access": "all", "allow_login": "y", "is_active": "y", "password": "taken-over-1"})
    assert response.status_code == 403
    assert "You cannot change Second: they hold permissions you do not hold" in _text(response)
    assert _user(app, scene.admin2).password_hash == before
    assert app.test_client().post("/login", data={"login": "second.admin@acme.example",
                                                  "password": "taken-over-1"}).status_code != 302


def test_even_the_owner_sends_a_reset_link_instead(app, owner_browser, acme, scene):
    colleague = make_user(app, acme, "colleague@acme.example", role_name="Staff", first_name="Colin")
    page = _text(owner_browser.get(f"/team/users/{colleague}/edit"))
    assert 'name="password"' not in page and "Only Colin sets their password." in page
    assert 'data-testid="reset-link-form"' in page and "Send a reset link to colleague@acme.example" in page
    before = _user(app, colleague).password_hash
    response = owner_browser.post(f"/team/users/{colleague}/edit", data={
        "first_name": "Colin", "email": "colleague@acme.example", "role": str(role_id(app, acme, "Staff")),
        "location_access": "all", "allow_login": "y", "is_active": "y", "password": "owner-chose-1"})
    assert response.status_code == 403
    assert "You cannot set another user's password. Send them a link to reset it instead." in _text(response)
    assert _user(app, colleague).password_hash == before

    mails = Path(app.config["MAIL_DIR"])
    count = len(list(mails.glob("*.eml"))) if mails.exists() else 0
    response = owner_browser.post(f"/team/users/{colleague}/password-reset")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/team/users/{colleague}/edit")
    assert "A link to reset the password was sent to colleague@acme.example." in _text(owner_browser.get(
        response.headers["Location"]))
    assert len(list(mails.glob("*.eml"))) == count + 1


def test_your_own_password_is_still_yours(app, owner_browser, acme):
    page = _text(owner_browser.get(f"/team/users/{acme.owner_id}/edit"))
    assert 'name="password"' in page and 'data-testid="reset-link-form"' not in page


def test_reset_link_refused_for_someone_above(app, acme, browser_as, scene):
    make_user(app, acme, "helper@acme.example", role_name="Helper",
              permissions=["user.view", "user.update", "user.reset_password"])
    client = browser_as("helper@acme.example", "user-password")
    response = client.post(f"/team/users/{scene.admin2}/password-reset")
    assert response.status_code == 303
    assert "You cannot change Second" in _text(client.get(response.headers["Location"]))


def test_the_owners_token_cannot_be_revoked_by_staff(app, mallory, scene):
    response = mallory.post(f"/settings/tokens/{scene.owner_token}/revoke")
    assert response.status_code == 403
    [token] = [t for t in _tokens_of(app, scene.owner) if t.id == scene.owner_token]
    assert token.revoked_at is None


def test_role_form_refuses_permissions_the_editor_lacks(app, acme, browser_as):
    make_user(app, acme, "editor@acme.example", role_name="Editor",
              permissions=["roles.view", "roles.create", "roles.update"])
    client = browser_as("editor@acme.example", "user-password")
    response = client.post("/team/roles/new", data={"name": "Boss", "permissions": ["roles.view", "user.delete"]})
    assert response.status_code == 403
    assert "You cannot put into a role permissions you do not hold: user.delete." in _text(response)
    assert role_id(app, acme, "Boss") is None
    own = role_id(app, acme, "Editor")
    response = client.post(f"/team/roles/{own}/edit", data={"name": "Editor", "permissions": [
        "roles.view", "roles.create", "roles.update", "user.view"]})
    assert response.status_code == 403


def test_new_permissions_are_on_the_roles_screen_and_tokens_manage_on_the_tokens_screen(owner_browser):
    page = owner_browser.get("/team/roles/new").get_data(as_text=True)
    for name in ("user.assign_role", "user.access", "user.reset_password", "user.tokens"):
        assert f'value="{name}"' in page
    assert 'value="tokens.manage"' not in page  # a credential ability, not a role permission
    assert 'value="tokens.manage"' in owner_browser.get("/settings/tokens").get_data(as_text=True)


def test_the_role_list_offers_only_roles_within_reach(app, acme, browser_as):
    scene = build_scene(app, acme, ["user.view", "user.create", "user.update", "user.assign_role"])
    client = browser_as("mallory@acme.example", "user-password")
    page = client.get("/team/users/new").get_data(as_text=True)
    assert f'<option value="{scene.attacker_role}">Staff</option>' in page
    assert f'value="{scene.admin_role}"' not in page and f'value="{scene.cashier_role}"' not in page
