"""Shared by the privilege-escalation tests: a business with an owner, a second admin and
an attacker, and a measure of everything the attacker can reach.

"Reach" is what the attacker could do after their calls: their own role, every token
created during the attack (its plaintext was shown to them), every user whose password
they set or who now has their e-mail address. The rule under test: it never grows.
"""
from dataclasses import dataclass

from sqlalchemy import select

from app.core.permissions import ALL_ABILITIES, all_permission_names
from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.conftest import make_token, make_user

ATTACKER_PASSWORD = "user-password"  # make_user's default
EVIL_DOMAIN = "@evil.example"  # a mailbox the attacker reads
CREDENTIAL_ONLY = {"tokens.manage"}  # abilities no role holds: they reach no permission


@dataclass
class Scene:
    tenant: object
    owner: int
    admin2: int
    attacker: int
    admin_role: int
    cashier_role: int
    attacker_role: int
    owner_token: int
    owner_token_plain: str
    agent: int


def role_id(app, tenant, name: str) -> int | None:
    from app.team.models import Role

    with app.app_context(), tenant_scope(tenant.business_id):
        return db.session.scalar(select(Role.id).where(Role.name == f"{name}#{tenant.business_id}"))


def build_scene(app, tenant, permissions) -> Scene:
    from app.team.models import User

    admin2 = make_user(app, tenant, "second.admin@acme.example", role_name="Admin", first_name="Second")
    attacker = make_user(app, tenant, "mallory@acme.example", permissions=sorted(permissions), role_name="Staff",
                         first_name="Mallory")
    owner_token_plain = make_token(app, tenant.owner_id, name="Owner's integration")
    with app.app_context(), tenant_scope(tenant.business_id):
        agent = User(first_name="Agent", email="agent@acme.example", is_cmmsn_agnt=True, allow_login=False,
                     status="active")
        db.session.add(agent)
        db.session.commit()
        agent_id = agent.id
    return Scene(tenant, tenant.owner_id, admin2, attacker, role_id(app, tenant, "Admin"),
                 role_id(app, tenant, "Cashier"), role_id(app, tenant, "Staff"),
                 int(owner_token_plain.split("|")[0]), owner_token_plain, agent_id)


def everything() -> set[str]:
    return set(all_permission_names()) | {ALL_ABILITIES}


def snapshot(app, tenant) -> dict:
    """Everything that decides reach: users (password, e-mail, role), tokens."""
    from app.auth.models import AccessToken
    from app.team.models import User

    with app.app_context(), tenant_scope(tenant.business_id):
        users = {u.id: (u.password_hash, u.email, u.role_id, u.status, u.allow_login, u.deleted_at, u.username)
                 for u in db.session.scalars(select(User))}
        tokens = {t.id: (t.user_id, tuple(t.abilities or ()), t.revoked_at) for t in db.session.scalars(select(AccessToken))}
        return {"users": users, "tokens": tokens}


def reach(app, tenant, attacker: int, before: dict | None = None) -> set[str]:
    """What the attacker can do now; with `before`, counting what they took since then."""
    from app.auth.models import AccessToken
    from app.team.models import User

    with app.app_context(), tenant_scope(tenant.business_id):
        def grants(user) -> set[str]:
            if user is None or user.role is None or user.deleted_at is not None:
                return set()
            return everything() if user.role.is_admin else set(user.role.permission_names)

        power = grants(db.session.get(User, attacker))
        if before is None:
            return power
        for token in db.session.scalars(select(AccessToken)):
            if token.id in before["tokens"] or token.revoked_at is not None:
                continue  # tokens made during the attack: their plaintext was shown to the attacker
            held = grants(token.user)
            abilities = set(token.abilities or [ALL_ABILITIES]) - CREDENTIAL_ONLY
            power |= held if ALL_ABILITIES in abilities else abilities & held
        for user in db.session.scalars(select(User)):
            old = before["users"].get(user.id)
            password_set_by_attacker = user.password_hash and (old is None or old[0] != user.password_hash)
            mailbox_taken = (user.email or "").endswith(EVIL_DOMAIN) and user.allow_login
            if password_set_by_attacker or mailbox_taken:
                power |= grants(user)
        return power


def attack_through_api(app, scene: Scene) -> list:
    """Every API route that changes users, roles, access or credentials, with the most
    dangerous payload; returns the responses (status codes) for the record."""
    from tests.conftest import ApiClient

    api = ApiClient(app.test_client(), {"Authorization": f"Bearer {make_token(app, scene.attacker)}"})
    every = sorted(all_permission_names())
    admin_all = {"role": scene.admin_role, "location_access": {"scope": "all"}}
    takeover = {**admin_all, "email": "mallory.owns" + EVIL_DOMAIN, "password": "taken-over-1",
                "allow_login": True, "is_active": True}
    calls = [
        ("post", "/api/v1/roles", {"name": "Root", "permissions": every}),
        ("patch", f"/api/v1/roles/{scene.attacker_role}", {"permissions": every}),
        ("put", f"/api/v1/roles/{scene.attacker_role}", {"name": "Staff", "permissions": every}),
        ("patch", f"/api/v1/roles/{scene.cashier_role}", {"permissions": every}),
        ("patch", f"/api/v1/users/{scene.attacker}", admin_all),
        ("put", f"/api/v1/users/{scene.attacker}", {**admin_all, "first_name": "Mallory"}),
        ("patch", f"/api/v1/users/{scene.attacker}", {"role": scene.cashier_role, "location_access": {"scope": "all"}}),
        ("post", "/api/v1/users", {**admin_all, "first_name": "Sidekick", "allow_login": True,
                                   "username": "sidekick", "password": "sidekick-pw", "email": "side" + EVIL_DOMAIN}),
        ("patch", f"/api/v1/users/{scene.admin2}", takeover),
        ("put", f"/api/v1/users/{scene.owner}", {**takeover, "first_name": "Owner"}),
        ("post", f"/api/v1/users/{scene.admin2}/password-reset", None),
        ("post", f"/api/v1/users/{scene.owner}/password-reset", None),
        ("delete", f"/api/v1/me/tokens/{scene.owner_token}", None),
        ("patch", f"/api/v1/commission-agents/{scene.agent}",
         {"allow_login": True, "password": "agent-pw-1", "role": scene.admin_role, "email": "agent" + EVIL_DOMAIN}),
        ("post", "/api/v1/commission-agents", {"first_name": "Ghost", "cmmsn_percent": 5, "allow_login": True,
                                               "password": "ghost-pw-1", "role": scene.admin_role,
                                               "email": "ghost" + EVIL_DOMAIN}),
        ("post", "/api/v1/tokens", {"email": "mallory@acme.example", "password": ATTACKER_PASSWORD,
                                    "device_name": "mine", "abilities": ["*"]}),
        ("delete", f"/api/v1/users/{scene.admin2}", None),
        ("delete", f"/api/v1/roles/{scene.cashier_role}", None),
    ]
    responses = [getattr(api, m)(url, json=body) if body is not None else getattr(api, m)(url)
                 for m, url, body in calls]
    root = role_id(app, scene.tenant, "Root")
    if root:  # a role made in the attack: try to take it
        responses.append(api.patch(f"/api/v1/users/{scene.attacker}",
                                   json={"role": root, "location_access": {"scope": "all"}}))
    responses.append(api.patch(f"/api/v1/users/{scene.attacker}",
                               json={"role": scene.cashier_role, "location_access": {"scope": "all"}}))
    return responses


def attack_through_pages(app, scene: Scene) -> list:
    """The same through the HTML forms, signed in as the attacker."""
    client = app.test_client()
    assert client.post("/login", data={"login": "mallory@acme.example", "password": ATTACKER_PASSWORD}).status_code == 302
    every = sorted(all_permission_names())
    admin_form = {"role": str(scene.admin_role), "location_access": "all", "first_name": "Mallory",
                  "allow_login": "y", "is_active": "y"}
    takeover = {**admin_form, "first_name": "Taken", "email": "mallory.owns" + EVIL_DOMAIN, "password": "taken-over-1"}
    posts = [
        ("/team/roles/new", {"name": "Root", "permissions": every}),
        (f"/team/roles/{scene.attacker_role}/edit", {"name": "Staff", "permissions": every}),
        (f"/team/roles/{scene.cashier_role}/edit", {"permissions": every}),
        (f"/team/users/{scene.attacker}/edit", admin_form),
        ("/team/users/new", {**admin_form, "first_name": "Sidekick", "username": "sidekick", "password": "sidekick-pw",
                             "email": "side" + EVIL_DOMAIN}),
        (f"/team/users/{scene.admin2}/edit", takeover),
        (f"/team/users/{scene.owner}/edit", takeover),
        (f"/team/users/{scene.owner}/tokens", {"name": "for me"}),
        (f"/team/users/{scene.admin2}/tokens", {"name": "for me"}),
        ("/settings/tokens", {"name": "everything", "abilities": every + ["tokens.manage"]}),
        (f"/settings/tokens/{scene.owner_token}/revoke", {}),
        (f"/team/users/{scene.admin2}/password-reset", {}),
        (f"/team/users/{scene.owner}/password-reset", {}),
        (f"/team/users/{scene.admin2}/toggle", {}),
        (f"/team/users/{scene.admin2}/delete", {}),
        ("/team/agents/new", {"first_name": "Ghost", "allow_login": "y", "password": "ghost-pw-1",
                              "role": str(scene.admin_role), "cmmsn_percent": "5", "email": "ghost" + EVIL_DOMAIN}),
        (f"/team/roles/{scene.cashier_role}/delete", {}),
        (f"/team/agents/{scene.agent}/edit", {"first_name": "Agent", "allow_login": "y", "password": "agent-pw-1",
                                              "role": str(scene.admin_role), "cmmsn_percent": "5"}),
    ]
    responses = [client.post(url, data=data) for url, data in posts]
    root = role_id(app, scene.tenant, "Root")
    for role in filter(None, (root, scene.cashier_role)):
        responses.append(client.post(f"/team/users/{scene.attacker}/edit", data={**admin_form, "role": str(role)}))
    return responses
