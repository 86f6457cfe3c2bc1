"""Sessions end when they should (issue 8): sign-out, sign out everywhere, a password or
role change end sessions on the server, so copies of the old cookies open nothing.

The old cookies are replayed from a second test client (werkzeug's get_cookie/set_cookie),
as someone who copied them would.
"""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.team.models import Role, User
from tests.conftest import make_token, make_user

OWNER = ("owner@acme.example", "owner-password")
CLERK = ("clerk@acme.example", "user-password")
ALL = {"scope": "all", "location_ids": []}


def sign_in(app, login, password, remember=False):
    client = app.test_client()
    data = {"login": login, "password": password, **({"remember": "y"} if remember else {})}
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def cookie(client, name: str) -> str:
    found = client.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


def replay(app, **cookies):
    """A fresh client that carries only copies of the given cookies."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def signed_in(client) -> bool:
    response = client.get("/")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
        return False
    assert response.status_code == 200
    return True


def rows(app, user_id: int) -> list:
    from app.auth.models import UserSession

    with app.app_context():
        stmt = select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)
        return list(db.session.scalars(stmt.execution_options(all_tenants=True)))


@pytest.fixture
def clerk(app, acme):
    make_user(app, acme, CLERK[0], ["locations.view"], role_name="Clerk")
    return _user_id(app, CLERK[0])


def _user_id(app, email):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email).execution_options(all_tenants=True))


def _role_id(app, tenant, name):
    with app.app_context():
        stmt = select(Role.id).where(Role.name == f"{name}#{tenant.business_id}")
        return db.session.scalar(stmt.execution_options(all_tenants=True))


# --- sign-out ---------------------------------------------------------------------------

def test_after_sign_out_the_old_session_and_remember_cookies_open_nothing(app, acme):
    browser = sign_in(app, *OWNER, remember=True)
    session, remember = cookie(browser, "session"), cookie(browser, "remember_token")
    # The copies work while the session lives (so the test below proves something).
    assert signed_in(replay(app, session=session))
    assert signed_in(replay(app, remember_token=remember))

    assert browser.post("/logout").status_code == 302
    assert not signed_in(browser)
    assert not signed_in(replay(app, session=session))
    assert not signed_in(replay(app, remember_token=remember))
    assert not signed_in(replay(app, session=session, remember_token=remember))
    [row] = rows(app, acme.owner_id)
    assert row.revoked_at is not None


def test_sign_out_ends_only_this_browser(app, acme):
    laptop = sign_in(app, *OWNER)
    phone = sign_in(app, *OWNER)
    laptop.post("/logout")
    assert not signed_in(laptop)
    assert signed_in(phone)


def test_a_sign_in_records_a_session_row_and_the_cookie_names_it(app, acme):
    browser = app.test_client()
    browser.post("/login", data={"login": OWNER[0], "password": OWNER[1]},
                 headers={"User-Agent": "Firefox/140"}, environ_base={"REMOTE_ADDR": "192.0.2.44"})
    [row] = rows(app, acme.owner_id)
    assert (row.user_id, row.business_id, row.ip, row.user_agent) == (acme.owner_id, acme.business_id,
                                                                      "192.0.2.44", "Firefox/140")
    assert row.revoked_at is None and len(row.token_hash) == 64
    # The token itself is only in the cookie, never in the table.
    with browser.session_transaction() as flask_session:
        user_id, _, token = flask_session["_user_id"].partition(".")
    assert user_id == str(acme.owner_id) and token and token not in row.token_hash


def test_cookies_from_before_server_side_sessions_are_refused(app, acme):
    """The old id was "<user id>.<nonce>": it names no session row."""
    browser = app.test_client()
    with browser.session_transaction() as flask_session:
        flask_session["_user_id"] = f"{acme.owner_id}.0"
        flask_session["_fresh"] = True
    assert not signed_in(browser)


def test_last_seen_is_written_at_most_once_a_minute(app, acme, monkeypatch):
    from app.auth import sessions

    browser = sign_in(app, *OWNER)
    [row] = rows(app, acme.owner_id)
    first_seen = row.last_seen_at
    assert signed_in(browser) and signed_in(browser)
    assert rows(app, acme.owner_id)[0].last_seen_at == first_seen

    later = sessions.utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)
    assert signed_in(browser)
    assert rows(app, acme.owner_id)[0].last_seen_at > first_seen


# --- sign out everywhere -----------------------------------------------------------------

def test_the_user_menu_offers_sign_out_everywhere(app, acme):
    html = sign_in(app, *OWNER).get("/").get_data(as_text=True)
    assert 'action="/logout/everywhere"' in html and "Sign out everywhere" in html


def test_sign_out_everywhere_ends_every_browser_and_remember_cookie(app, acme, clerk):
    laptop = sign_in(app, *OWNER)
    phone = sign_in(app, *OWNER, remember=True)
    remember = cookie(phone, "remember_token")
    colleague = sign_in(app, *CLERK)

    response = laptop.post("/logout/everywhere")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not signed_in(laptop)
    assert not signed_in(phone)
    assert not signed_in(replay(app, remember_token=remember))
    assert signed_in(colleague)  # another user's sessions are theirs
    assert all(row.revoked_at is not None for row in rows(app, acme.owner_id))
    assert signed_in(sign_in(app, *OWNER))  # and signing in again works


def test_sign_out_everywhere_is_a_signed_in_post(app, acme):
    client = app.test_client()
    assert client.get("/logout/everywhere").status_code == 405
    response = client.post("/logout/everywhere")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_sign_out_everywhere_needs_the_csrf_token(app, acme):
    browser = sign_in(app, *OWNER)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert browser.post("/logout/everywhere").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert signed_in(browser)


# --- password changes ---------------------------------------------------------------------

def _own_edit_form(app, tenant, user_id, **fields):
    return {"first_name": "Owner", "last_name": "Acme", "email": OWNER[0], "role": str(_role_id(app, tenant, "Admin")),
            "is_active": "y", "allow_login": "y", "username": OWNER[0], "location_access": "all", **fields}


def test_changing_your_own_password_signs_out_your_other_browsers_but_not_this_one(app, acme):
    laptop = sign_in(app, *OWNER)
    phone = sign_in(app, *OWNER, remember=True)
    remember = cookie(phone, "remember_token")

    response = laptop.post(f"/team/users/{acme.owner_id}/edit",
                           data=_own_edit_form(app, acme, acme.owner_id, password="a-new-password"))
    assert response.status_code == 302, response.get_data(as_text=True)

    assert signed_in(laptop)  # where the change was made
    assert not signed_in(phone)
    assert not signed_in(replay(app, remember_token=remember))
    assert signed_in(sign_in(app, OWNER[0], "a-new-password"))


def test_saving_your_own_user_without_a_password_keeps_your_other_browsers(app, acme):
    laptop = sign_in(app, *OWNER)
    phone = sign_in(app, *OWNER)
    response = laptop.post(f"/team/users/{acme.owner_id}/edit", data=_own_edit_form(app, acme, acme.owner_id))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert signed_in(laptop) and signed_in(phone)


def test_a_password_change_through_the_api_ends_every_browser_session(app, acme):
    """Your own password changed through the API (nobody sets another's: they send a reset link)."""
    browser = sign_in(app, *OWNER, remember=True)
    remember = cookie(browser, "remember_token")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {make_token(app, acme.owner_id)}"}
    body = {"first_name": "Owner", "role": _role_id(app, acme, "Admin"), "location_access": ALL,
            "password": "another-password"}
    response = api.patch(f"/api/v1/users/{acme.owner_id}", json=body, headers=headers)
    assert response.status_code == 200, response.json
    assert not signed_in(browser)
    assert not signed_in(replay(app, remember_token=remember))


def test_the_api_token_itself_survives_its_owners_password_change(app, acme):
    """Tokens are credentials of their own (revoked on the tokens page), not sessions."""
    browser = sign_in(app, *OWNER)
    headers = {"Authorization": f"Bearer {make_token(app, acme.owner_id)}"}
    api = app.test_client()
    body = {"first_name": "Owner", "role": _role_id(app, acme, "Admin"), "location_access": ALL,
            "password": "another-password"}
    assert api.patch(f"/api/v1/users/{acme.owner_id}", json=body, headers=headers).status_code == 200
    assert not signed_in(browser)  # the API caller is no browser session to keep
    assert api.get("/api/v1/me", headers=headers).status_code == 200


# --- role changes -------------------------------------------------------------------------

@pytest.fixture
def manager_role(app, acme):
    with app.app_context():
        db.session.add(Role(name=f"Manager#{acme.business_id}", business_id=acme.business_id))
        db.session.commit()
    return _role_id(app, acme, "Manager")


def test_a_role_change_on_the_user_screen_ends_that_users_sessions(app, acme, clerk, manager_role):
    colleague = sign_in(app, *CLERK, remember=True)
    remember = cookie(colleague, "remember_token")
    admin = sign_in(app, *OWNER)
    form = {"first_name": "Clerk", "email": CLERK[0], "role": str(manager_role), "is_active": "y",
            "allow_login": "y", "username": CLERK[0], "location_access": "all"}
    response = admin.post(f"/team/users/{clerk}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)

    assert not signed_in(colleague)
    assert not signed_in(replay(app, remember_token=remember))
    assert signed_in(admin)
    assert signed_in(sign_in(app, *CLERK))  # the password still works: only the sessions ended


def test_a_role_change_through_the_api_ends_that_users_sessions(app, acme, clerk, manager_role):
    colleague = sign_in(app, *CLERK, remember=True)
    remember = cookie(colleague, "remember_token")
    headers = {"Authorization": f"Bearer {make_token(app, acme.owner_id)}"}
    body = {"first_name": "Clerk", "role": manager_role, "location_access": ALL}
    response = app.test_client().patch(f"/api/v1/users/{clerk}", json=body, headers=headers)
    assert response.status_code == 200, response.json
    assert not signed_in(colleague)
    assert not signed_in(replay(app, remember_token=remember))


def test_saving_a_user_with_the_same_role_keeps_their_sessions(app, acme, clerk):
    colleague = sign_in(app, *CLERK)
    headers = {"Authorization": f"Bearer {make_token(app, acme.owner_id)}"}
    body = {"first_name": "Clark", "role": _role_id(app, acme, "Clerk"), "location_access": ALL}
    assert app.test_client().patch(f"/api/v1/users/{clerk}", json=body, headers=headers).status_code == 200
    assert signed_in(colleague)


# --- unchanged: deactivation, deletion, reset ------------------------------------------------

def test_deactivation_ends_sessions_while_inactive_as_before(app, acme, clerk):
    colleague = sign_in(app, *CLERK)
    admin = sign_in(app, *OWNER)
    headers = {"Authorization": f"Bearer {make_token(app, acme.owner_id)}"}
    body = {"first_name": "Clerk", "role": _role_id(app, acme, "Clerk"), "location_access": ALL}
    api = app.test_client()
    assert api.patch(f"/api/v1/users/{clerk}", json=dict(body, is_active=False), headers=headers).status_code == 200
    assert not signed_in(colleague)
    # Today's behaviour, kept: the session is refused while the user is inactive, not revoked.
    assert api.patch(f"/api/v1/users/{clerk}", json=dict(body, is_active=True), headers=headers).status_code == 200
    assert signed_in(colleague)
    assert signed_in(admin)


def test_deletion_ends_sessions(app, acme, clerk):
    colleague = sign_in(app, *CLERK)
    headers = {"Authorization": f"Bearer {make_token(app, acme.owner_id)}"}
    assert app.test_client().delete(f"/api/v1/users/{clerk}", headers=headers).status_code in (200, 204)
    assert not signed_in(colleague)


# --- signed-in devices -----------------------------------------------------------------------

def test_signed_in_devices_lists_live_sessions_and_signs_one_out(app, acme):
    laptop = app.test_client()
    laptop.post("/login", data={"login": OWNER[0], "password": OWNER[1]}, headers={"User-Agent": "Laptop/1"})
    phone = app.test_client()
    phone.post("/login", data={"login": OWNER[0], "password": OWNER[1]}, headers={"User-Agent": "Phone/2"})
    old = sign_in(app, *OWNER)
    old.post("/logout")  # ended: not listed

    page = laptop.get("/account/sessions", headers={"User-Agent": "Laptop/1"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count("data-session-id=") == 2 and "Laptop/1" in html and "Phone/2" in html
    assert html.count("This browser") == 1
    laptop_row, phone_row, _ = rows(app, acme.owner_id)

    response = laptop.post(f"/account/sessions/{phone_row.id}/end", headers={"User-Agent": "Laptop/1"})
    assert response.status_code == 302 and response.headers["Location"] == "/account/sessions"
    assert phone.get("/", headers={"User-Agent": "Phone/2"}).status_code == 302
    assert laptop.get("/", headers={"User-Agent": "Laptop/1"}).status_code == 200

    # Ending this browser's own row is signing out.
    response = laptop.post(f"/account/sessions/{laptop_row.id}/end", headers={"User-Agent": "Laptop/1"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert laptop.get("/", headers={"User-Agent": "Laptop/1"}).status_code == 302


def test_someone_elses_session_cannot_be_ended(app, acme, globex, clerk):
    colleague = sign_in(app, *CLERK)
    stranger = sign_in(app, "owner@globex.example", "owner-password")
    owner = sign_in(app, *OWNER)
    [clerk_row] = rows(app, clerk)
    [stranger_row] = rows(app, globex.owner_id)
    assert owner.post(f"/account/sessions/{clerk_row.id}/end").status_code == 404
    assert owner.post(f"/account/sessions/{stranger_row.id}/end").status_code == 404
    assert signed_in(colleague) and signed_in(stranger)


# --- idle sessions and clean-up ------------------------------------------------------------

def test_a_session_idle_past_the_remember_me_lifetime_is_refused(app, acme, monkeypatch):
    from app.auth import sessions

    browser = sign_in(app, *OWNER, remember=True)
    remember = cookie(browser, "remember_token")
    later = sessions.utcnow() + timedelta(days=366)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)
    assert not signed_in(browser)
    assert not signed_in(replay(app, remember_token=remember))


def test_ended_and_long_idle_sessions_are_deleted_by_the_hourly_job(app, acme, monkeypatch):
    from app.auth import sessions
    from app.auth.tasks import forget_old_sessions

    ended = sign_in(app, *OWNER)
    ended.post("/logout")
    sign_in(app, *OWNER)
    assert len(rows(app, acme.owner_id)) == 2
    with app.app_context():
        forget_old_sessions.call_local()
    assert len(rows(app, acme.owner_id)) == 2  # ended today: kept for a while

    later = sessions.utcnow() + timedelta(days=31)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)
    with app.app_context():
        forget_old_sessions.call_local()
    [live] = rows(app, acme.owner_id)
    assert live.revoked_at is None
