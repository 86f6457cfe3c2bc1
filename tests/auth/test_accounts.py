"""Sign-up, sign-in, sign-out and password reset through the HTML face."""
import re
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import func, select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.team.models import Business, Role, User
from tests.conftest import make_user, sign_in

SIGNUP = {"business_name": "Fern & Co", "first_name": "Ada", "last_name": "Fern",
          "email": "Ada@Fern.example", "password": "long-enough-pw"}


def _count(model, all_tenants=True):
    stmt = select(func.count()).select_from(model).execution_options(all_tenants=all_tenants)
    return db.session.scalar(stmt)


def test_sign_up_creates_business_owner_and_default_roles(app, client):
    response = client.post("/signup", data=SIGNUP)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Fern &amp; Co" in page.get_data(as_text=True)
    with app.app_context():
        business = db.session.scalars(select(Business)).one()
        assert (business.name, business.slug, business.plan) == ("Fern & Co", "fern-co", "free")
        with tenant_scope(business.id):
            owner = db.session.scalars(select(User)).one()
            roles = sorted(r.name for r in db.session.scalars(select(Role)))
        assert owner.email == "ada@fern.example"
        assert owner.password_hash.startswith("$argon2id$")
        assert owner.role.name == f"Admin#{business.id}" and owner.role.is_admin
        assert roles == [f"Admin#{business.id}", f"Cashier#{business.id}"]


def test_sign_up_with_taken_email_is_a_field_error(app, client, acme):
    response = client.post("/signup", data=dict(SIGNUP, email="OWNER@acme.example"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field-error="email"' in html
    assert "An account with this e-mail address already exists." in html
    with app.app_context():
        assert _count(Business) == 1  # nothing half-created


def test_sign_up_validates_every_field(app, client):
    response = client.post("/signup", data={"business_name": "", "first_name": "", "email": "nope",
                                            "password": "short"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The business name field is required." in html
    assert "The first name field is required." in html
    with app.app_context():
        assert _count(Business) == 0


def test_sign_up_bad_email_and_short_password_reach_the_service(app, client):
    response = client.post("/signup", data=dict(SIGNUP, email="not-an-email", password="short"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a valid e-mail address." in html
    assert "The password must be at least 8 characters." in html


def test_sign_in_by_email_or_username_and_sign_out(app, client, acme):
    with app.app_context():
        make_user(app, acme, "clerk@acme.example", ["locations.view"], username="clerk")
    assert sign_in(client, "clerk", "user-password").status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/logout").status_code == 405  # sign-out is a POST (CSRF-protected form)
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302  # back to the login page
    assert sign_in(client, "Clerk@Acme.example", "user-password").status_code == 302


def test_wrong_password_and_unknown_account_get_the_same_answer(client, acme):
    wrong = sign_in(client, "owner@acme.example", "not-the-password")
    unknown = sign_in(client, "nobody@acme.example", "not-the-password")
    assert wrong.status_code == unknown.status_code == 422
    message = "Those details do not match an account. Check them and try again."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_sign_in(app, client, acme):
    make_user(app, acme, "gone@acme.example", status="inactive")
    assert sign_in(client, "gone@acme.example", "user-password").status_code == 422


def test_next_parameter_only_redirects_inside_the_site(client, acme):
    response = client.post("/login?next=https://evil.example/", data={"login": "owner@acme.example",
                                                                     "password": "owner-password"})
    assert response.headers["Location"] == "/"


def _mails(app) -> list[Path]:
    folder = Path(app.config["MAIL_DIR"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def test_password_reset_round_trip(app, client, acme):
    for old in _mails(app):
        old.unlink()
    other_session = app.test_client()
    assert sign_in(other_session, "owner@acme.example", "owner-password").status_code == 302

    response = client.post("/forgot-password", data={"email": "owner@acme.example"})
    assert response.status_code == 302
    [eml] = _mails(app)
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "owner@acme.example"
    assert message["Subject"] == "Reset your Trellis password"
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://localhost(/reset-password/\S+)", text).group(1)

    assert client.get(link).status_code == 200
    mismatch = client.post(link, data={"password": "brand-new-pass", "confirm": "other"})
    assert mismatch.status_code == 422 and "The passwords do not match." in mismatch.get_data(as_text=True)
    assert client.post(link, data={"password": "brand-new-pass", "confirm": "brand-new-pass"}).status_code == 302

    assert sign_in(client, "owner@acme.example", "owner-password").status_code == 422
    assert sign_in(client, "owner@acme.example", "brand-new-pass").status_code == 302
    # The reset signed out the other session and the link cannot be used twice.
    assert other_session.get("/").status_code == 302
    reused = client.get(link)
    assert reused.status_code == 302 and reused.headers["Location"] == "/forgot-password"


def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(app, client, acme):
    for old in _mails(app):
        old.unlink()
    response = client.post("/forgot-password", data={"email": "stranger@nowhere.example"}, follow_redirects=True)
    assert "If an account uses that address" in response.get_data(as_text=True)
    assert _mails(app) == []


def test_expired_or_forged_reset_link_is_refused(app, client, acme):
    response = client.get("/reset-password/forged-token")
    assert response.status_code == 302 and response.headers["Location"] == "/forgot-password"
    with app.app_context():
        from app.auth.services import password_reset_token

        owner = db.session.scalar(select(User).where(User.id == acme.owner_id).execution_options(all_tenants=True))
        token = password_reset_token(owner)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    try:
        assert client.get(f"/reset-password/{token}").status_code == 302
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = 3600


def test_cli_create_business_and_demo_data(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-business", "Initech", "--email", "boss@initech.example",
                                 "--password", "tps-reports"])
    assert result.exit_code == 0, result.output
    assert "Created business 'Initech'" in result.output
    bad = runner.invoke(args=["create-business", "Initech 2", "--email", "boss@initech.example",
                              "--password", "tps-reports"])
    assert bad.exit_code == 2 and "already exists" in bad.output
    for _ in range(2):  # idempotent
        demo = runner.invoke(args=["demo-data"])
        assert demo.exit_code == 0, demo.output
    with app.app_context():
        from app.locations.models import Location

        assert _count(Business) == 2
        assert _count(Location) == 4
        assert _count(User) == 1 + 5 + 2  # Initech's owner; the demo owner, 4 staff and 2 agents
        assert _count(Role) == 2 + 4  # each business's Admin and Cashier, and two demo roles


def test_an_agents_email_does_not_block_a_sign_up(app, client, acme):
    from app.core.tenancy import tenant_scope

    with app.app_context(), tenant_scope(acme.business_id):
        db.session.add(User(first_name="Agent", email="ada@fern.example", allow_login=False, is_cmmsn_agnt=True))
        db.session.commit()
    assert client.post("/signup", data=SIGNUP).status_code == 302
