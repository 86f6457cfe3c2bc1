"""Issue 8: nobody can grant, reach or act with more than they hold (JSON face, and the
property over both faces). Reach is measured in tests/escalation_support.py."""
import pytest
from sqlalchemy import select

import app.locations.services  # noqa: F401  (each registers its permissions on import:
import app.pipelines.permissions  # noqa: F401  the parameters below need them at collection)
import app.team.permissions  # noqa: F401
from app.core.permissions import all_permission_names
from app.extensions import db
from tests.api.conftest import token_row
from tests.conftest import make_token, make_user
from tests.escalation_support import (
    attack_through_api,
    attack_through_pages,
    build_scene,
    reach,
    role_id,
    snapshot,
)

USERS = "/api/v1/users"
ADMIN_ALL = {"location_access": {"scope": "all"}}


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _user(app, user_id):
    from app.team.models import User

    with app.app_context():
        row = db.session.scalar(select(User).where(User.id == user_id).execution_options(all_tenants=True))
        db.session.expunge(row)
        return row


@pytest.fixture
def scene(app, acme):
    return build_scene(app, acme, ["user.view", "user.update"])


# --- the bullets, one regression test each ---------------------------------------

def test_staff_cannot_give_themselves_the_admin_role(app, api_as, acme, scene):
    client = api_as(scene.attacker)
    response = client.patch(f"{USERS}/{scene.attacker}", json={"role": scene.admin_role, **ADMIN_ALL})

    assert response.status_code == 403
    assert response.json == {"message": "Changing a user's role needs the user.assign_role permission."}
    assert _user(app, scene.attacker).role_id == scene.attacker_role
    assert client.get("/api/v1/me").json["data"]["permissions"] == ["user.update", "user.view"]


def test_assigning_a_role_needs_every_permission_it_holds(app, api_as, acme):
    scene = build_scene(app, acme, ["user.view", "user.update", "user.assign_role"])
    response = api_as(scene.attacker).patch(f"{USERS}/{scene.attacker}", json={"role": scene.admin_role, **ADMIN_ALL})

    assert response.status_code == 403
    assert response.json["message"].startswith("You cannot assign the role \u201cAdmin\u201d: it holds permissions you"
                                               " do not hold: all permissions (the Admin role)")
    assert _user(app, scene.attacker).role_id == scene.attacker_role
    # A role within reach may be given (the Cashier holds locations.view: give it to them first).
    within = make_user(app, acme, "clerk@acme.example", permissions=["user.view"], role_name="Viewer")
    viewer = role_id(app, acme, "Viewer")
    response = api_as(scene.attacker).patch(f"{USERS}/{within}", json={"role": scene.attacker_role, **ADMIN_ALL})
    assert response.status_code == 200, response.json
    assert _user(app, within).role_id == scene.attacker_role != viewer


def test_nobody_but_the_owner_changes_the_owner(app, api_as, acme, scene):
    admin = api_as(scene.admin2)  # another admin holds everything, but not the owner's account
    response = admin.patch(f"{USERS}/{scene.owner}", json={"role": scene.cashier_role, **ADMIN_ALL})
    assert (response.status_code, response.json) == (403, {"message": "Only the business owner can change the"
                                                                      " owner's account."})
    assert admin.delete(f"/api/v1/me/tokens/{scene.owner_token}").status_code == 403
    assert token_row(app, scene.owner_token).revoked_at is None
    # The owner is the exception: they may hand out the Admin role.
    response = api_as(scene.owner).patch(f"{USERS}/{scene.attacker}", json={"role": scene.admin_role, **ADMIN_ALL})
    assert response.status_code == 200


def test_another_users_password_is_never_set_by_a_colleague(app, api_as, acme, scene):
    before = _user(app, scene.admin2).password_hash
    response = api_as(scene.owner).patch(f"{USERS}/{scene.admin2}", json={
        "role": scene.admin_role, **ADMIN_ALL, "password": "taken-over-1"})
    assert (response.status_code, response.json) == (403, {
        "message": "You cannot set another user's password. Send them a link to reset it instead."})
    assert _user(app, scene.admin2).password_hash == before


def test_a_user_holding_more_cannot_be_changed(app, api_as, acme, scene):
    response = api_as(scene.attacker).patch(f"{USERS}/{scene.admin2}", json={
        "role": scene.admin_role, **ADMIN_ALL, "email": "mallory@evil.example"})
    assert response.status_code == 403
    assert response.json == {"message": "You cannot change Second: they hold permissions you do not hold:"
                                        " all permissions (the Admin role)."}
    assert _user(app, scene.admin2).email == "second.admin@acme.example"


def test_a_narrow_token_cannot_list_or_revoke_its_siblings(app, acme):
    full = make_token(app, acme.owner_id, name="full")
    narrow = make_token(app, acme.owner_id, abilities=["contacts.view"], name="narrow")
    full_id = int(full.split("|")[0])
    client = app.test_client()

    for response in (client.get("/api/v1/me/tokens", headers=_bearer(narrow)),
                     client.get(f"/api/v1/me/tokens/{full_id}", headers=_bearer(narrow)),
                     client.delete(f"/api/v1/me/tokens/{full_id}", headers=_bearer(narrow))):
        assert response.status_code == 403
        assert response.json == {"message": "Managing tokens needs a full-ability token or the tokens.manage ability."}
    assert token_row(app, full_id).revoked_at is None
    assert client.get("/api/v1/me", headers=_bearer(full)).status_code == 200
    # tokens.manage is the ability that allows it.
    manager = make_token(app, acme.owner_id, abilities=["contacts.view", "tokens.manage"], name="manager")
    assert client.get("/api/v1/me/tokens", headers=_bearer(manager)).status_code == 200


def test_a_token_cannot_be_issued_beyond_the_actor(app, acme):
    from app.auth import tokens
    from app.core.errors import Forbidden
    from app.core.permissions import actor_for
    from app.core.tenancy import tenant_scope
    from app.team.models import User

    clerk = make_user(app, acme, "clerk@acme.example", permissions=["contacts.view", "deals.view"])
    with app.app_context(), tenant_scope(acme.business_id):
        user = db.session.get(User, clerk)
        narrow = actor_for(user, abilities=["contacts.view", "tokens.manage"])
        with pytest.raises(Forbidden, match="deals.view"):
            tokens.create_token(narrow, clerk, "wider", ["*"])  # "*" is the whole role: more than the token
        with pytest.raises(Forbidden, match="user.view"):
            tokens.create_token(actor_for(user), clerk, "beyond", ["user.view"])
        token, _ = tokens.create_token(narrow, clerk, "same", ["contacts.view"])
        assert token.abilities == ["contacts.view"]


# --- roles ------------------------------------------------------------------------------

def test_role_editor_cannot_put_in_what_they_lack(app, api_as, acme):
    editor = make_user(app, acme, "editor@acme.example", role_name="Editor",
                       permissions=["roles.view", "roles.create", "roles.update", "roles.delete", "contacts.view"])
    client = api_as(editor)
    response = client.post("/api/v1/roles", json={"name": "Boss", "permissions": ["contacts.view", "user.delete"]})
    assert (response.status_code, response.json) == (403, {
        "message": "You cannot put into a role permissions you do not hold: user.delete."})
    assert role_id(app, acme, "Boss") is None
    assert client.post("/api/v1/roles", json={"name": "Reader", "permissions": ["contacts.view"]}).status_code == 201

    own = role_id(app, acme, "Editor")
    response = client.patch(f"/api/v1/roles/{own}", json={"permissions": ["roles.view", "user.delete"]})
    assert response.status_code == 403
    cashier = role_id(app, acme, "Cashier")  # holds locations.view, which the editor lacks
    response = client.patch(f"/api/v1/roles/{cashier}", json={"permissions": []})
    assert response.status_code == 403
    assert response.json["message"].startswith("You cannot change the role \u201cCashier\u201d")
    assert client.delete(f"/api/v1/roles/{cashier}").status_code == 403


def test_a_role_editor_cannot_add_to_the_role_they_hold(app, api_as, acme):
    editor = make_user(app, acme, "editor@acme.example", role_name="Editor",
                       permissions=["roles.view", "roles.update", "contacts.view"])
    own = role_id(app, acme, "Editor")
    # contacts.view is theirs, but not in this one token: the token holds only roles.update.
    narrow = api_as(editor, abilities=["roles.update", "roles.view"])
    response = narrow.patch(f"/api/v1/roles/{own}", json={"permissions": ["roles.view", "roles.update",
                                                                          "contacts.view", "contacts.update"]})
    assert response.status_code == 403
    response = api_as(editor).patch(f"/api/v1/roles/{own}", json={"permissions": ["roles.view", "roles.update"]})
    assert response.status_code == 200  # taking away is fine


# --- access ------------------------------------------------------------------------------

def test_location_access_is_no_wider_than_the_actors(app, api_as, acme):
    from tests.api.conftest import add_locations

    shop, depot = add_locations(app, acme, {"name": "Shop"}, {"name": "Depot"})
    manager = make_user(app, acme, "manager@acme.example", role_name="Manager",
                        permissions=["user.view", "user.create", "user.update", "user.access"],
                        location_scope="locations")
    from app.core.tenancy import tenant_scope
    from app.locations.models import Location
    from app.team.models import User

    with app.app_context(), tenant_scope(acme.business_id):
        db.session.get(User, manager).locations = [db.session.get(Location, shop)]
        db.session.commit()
    clerk = make_user(app, acme, "clerk@acme.example", role_name="Manager", location_scope="locations")
    with app.app_context(), tenant_scope(acme.business_id):
        db.session.get(User, clerk).locations = [db.session.get(Location, shop)]
        db.session.commit()
    manager_role = role_id(app, acme, "Manager")
    client = api_as(manager)
    for access in ({"scope": "all"}, {"scope": "locations", "location_ids": [shop, depot]}):
        response = client.patch(f"{USERS}/{clerk}", json={"role": manager_role, "location_access": access})
        assert (response.status_code, response.json) == (403, {
            "message": "You cannot give access to locations you cannot reach yourself."})
        response = client.patch(f"{USERS}/{manager}", json={"role": manager_role, "location_access": access})
        assert response.status_code == 403
    response = client.post(USERS, json={"first_name": "New", "role": manager_role, "location_access": {"scope": "all"}})
    assert response.status_code == 403
    response = client.post(USERS, json={"first_name": "New", "role": manager_role,
                                        "location_access": {"scope": "locations", "location_ids": [shop]}})
    assert response.status_code == 201


def test_changing_access_needs_user_access(app, api_as, acme, scene):
    within = make_user(app, acme, "clerk@acme.example", role_name="Staff")
    response = api_as(scene.attacker).patch(f"{USERS}/{within}", json={
        "role": scene.attacker_role, "location_access": {"scope": "all"}, "selected_contacts": True})
    assert (response.status_code, response.json) == (403, {
        "message": "Changing a user's location or contact access needs the user.access permission."})


def test_a_user_limited_to_contacts_cannot_lift_anyones_limit(app, api_as, acme):
    from app.core.tenancy import tenant_scope
    from app.team.models import User

    manager = make_user(app, acme, "manager@acme.example", role_name="Manager",
                        permissions=["user.view", "user.update", "user.access"], selected_contacts=True)
    clerk = make_user(app, acme, "clerk@acme.example", role_name="Manager", selected_contacts=True)
    response = api_as(manager).patch(f"{USERS}/{clerk}", json={
        "role": role_id(app, acme, "Manager"), **ADMIN_ALL, "selected_contacts": False})
    assert (response.status_code, response.json) == (403, {
        "message": "You cannot give access to contacts you cannot reach yourself."})
    with app.app_context(), tenant_scope(acme.business_id):
        assert db.session.get(User, clerk).selected_contacts is True


# --- reset link ---------------------------------------------------------------------------

def test_send_a_reset_link_instead(app, api_as, acme, scene):
    from pathlib import Path

    colleague = make_user(app, acme, "colleague@acme.example", role_name="Staff")
    mails = Path(app.config["MAIL_DIR"])
    count = len(list(mails.glob("*.eml"))) if mails.exists() else 0

    assert api_as(scene.attacker).post(f"{USERS}/{colleague}/password-reset").status_code == 403  # no permission
    helper = make_user(app, acme, "helper@acme.example", role_name="Helper",
                       permissions=["user.view", "user.update", "user.reset_password"])
    client = api_as(helper)
    response = client.post(f"{USERS}/{colleague}/password-reset")
    assert (response.status_code, response.json) == (
        202, {"message": "A link to reset the password was sent to colleague@acme.example."})
    sent = sorted(mails.glob("*.eml"), key=lambda p: p.stat().st_mtime)
    assert len(sent) == count + 1 and "To: colleague@acme.example" in sent[-1].read_text()
    assert "/reset-password/" in sent[-1].read_text()
    # Never to someone holding more than the sender.
    assert client.post(f"{USERS}/{scene.admin2}/password-reset").status_code == 403
    assert client.post(f"{USERS}/{scene.owner}/password-reset").status_code == 403


def test_commission_agents_never_gain_a_sign_in(app, api_as, acme, scene):
    client = api_as(make_user(app, acme, "hr@acme.example", permissions=["user.create", "user.update", "user.view"]))
    client.patch(f"/api/v1/commission-agents/{scene.agent}", json={
        "allow_login": True, "password": "agent-pw-1", "role": scene.admin_role, "username": "agent"})
    agent = _user(app, scene.agent)
    assert (agent.allow_login, agent.password_hash, agent.role_id, agent.username) == (False, None, None, None)
    assert client.patch(f"{USERS}/{scene.agent}", json={"role": scene.admin_role, **ADMIN_ALL}).status_code == 404


# --- the property: for every single permission (and a few pairs), on both faces -------------

PAIRS = [
    ("user.view", "user.update"), ("user.update", "user.assign_role"), ("user.create", "roles.create"),
    ("user.update", "user.tokens"), ("roles.update", "roles.view"), ("user.update", "user.access"),
    ("user.assign_role", "roles.create", "roles.update", "user.update"),
    ("user.update", "user.reset_password"), ("user.create", "user.update", "user.delete", "user.view"),
]
ACTORS = [(name,) for name in all_permission_names()] + PAIRS
assert len(ACTORS) > 40, "every registered permission is an actor"


@pytest.mark.parametrize("face", ["api", "html"])
@pytest.mark.parametrize("permissions", ACTORS, ids=["+".join(p) for p in ACTORS])
def test_no_route_lets_anyone_reach_beyond_what_they_hold(app, acme, face, permissions):
    scene = build_scene(app, acme, permissions)
    before = snapshot(app, acme)
    held = reach(app, acme, scene.attacker)
    assert held == set(permissions)

    responses = (attack_through_api if face == "api" else attack_through_pages)(app, scene)

    assert all(r.status_code < 500 for r in responses), [r.status_code for r in responses]
    assert reach(app, acme, scene.attacker, before) <= held
    after = snapshot(app, acme)
    # Nobody above them was touched: not the owner, not the other admin, not their tokens.
    for above in (scene.owner, scene.admin2):
        assert after["users"][above] == before["users"][above]
    assert after["tokens"][scene.owner_token] == before["tokens"][scene.owner_token]
    assert [t for t in after["tokens"].values() if t[0] in (scene.owner, scene.admin2)] == \
        [t for t in before["tokens"].values() if t[0] in (scene.owner, scene.admin2)]
