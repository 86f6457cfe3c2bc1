"""POST /api/v1/tokens, bearer authentication, /api/v1/me and /api/v1/me/tokens."""
import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.core.permissions import all_permission_names
from app.extensions import db
from tests.api.conftest import OWNER_PASSWORD, token_row
from tests.conftest import make_token, make_user

TOKENS = "/api/v1/tokens"
CREDENTIALS = {"email": "owner@acme.example", "password": OWNER_PASSWORD, "device_name": "Zapier"}
BAD_CREDENTIALS = {
    "message": "The provided credentials are incorrect.",
    "errors": {"email": ["The provided credentials are incorrect."]},
}
UNAUTHENTICATED = {"message": "Unauthenticated."}


def _future(days=30) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


def issue(client, **overrides):
    return client.post(TOKENS, json={**CREDENTIALS, **overrides})


def assert_401(response):
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.json == UNAUTHENTICATED
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- issuing -------------------------------------------------------------------------

def test_issue_token_returns_id_and_secret_and_stores_only_its_hash(app, client, acme):
    response = issue(client)

    assert response.status_code == 201, response.json
    assert list(response.json) == ["token"]
    match = re.fullmatch(r"(\d+)\|([A-Za-z0-9]{40})", response.json["token"])
    assert match, response.json
    token_id, secret = int(match[1]), match[2]
    assert response.headers["Location"].endswith(f"/api/v1/me/tokens/{token_id}")

    row = token_row(app, token_id)
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.name == "Zapier"
    assert row.user_id == acme.owner_id and row.business_id == acme.business_id
    assert row.abilities == ["*"]
    assert row.expires_at is None and row.revoked_at is None
    stored = [str(getattr(row, column.key)) for column in row.__table__.columns]
    assert not any(secret in value for value in stored)


def test_issued_token_authenticates(client, acme):
    token = issue(client).json["token"]
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json["data"]["id"] == acme.owner_id


def test_issue_token_with_abilities_and_expiry(app, client, acme):
    expires = _future()
    response = issue(client, abilities=["locations.view", "locations.create"], expires_at=expires.isoformat())

    assert response.status_code == 201, response.json
    row = token_row(app, int(response.json["token"].split("|")[0]))
    assert row.abilities == ["locations.create", "locations.view"]
    assert row.expires_at.replace(tzinfo=UTC) == expires


def test_expiry_in_another_time_zone_is_stored_in_utc(app, client, acme):
    response = issue(client, expires_at="2030-01-01T10:00:00+05:00")
    assert response.status_code == 201
    row = token_row(app, int(response.json["token"].split("|")[0]))
    assert row.expires_at.replace(tzinfo=UTC) == datetime(2030, 1, 1, 5, tzinfo=UTC)


@pytest.mark.parametrize("email, password", [
    ("owner@acme.example", "wrong-password"),
    ("nobody@acme.example", OWNER_PASSWORD),  # same answer: no account enumeration
])
def test_wrong_credentials_are_422(app, client, acme, email, password):
    response = issue(client, email=email, password=password)
    assert response.status_code == 422
    assert response.json == BAD_CREDENTIALS
    with app.app_context():
        from app.auth.models import AccessToken

        assert db.session.query(AccessToken).execution_options(all_tenants=True).count() == 0


def test_missing_device_name_is_422(client, acme):
    response = client.post(TOKENS, json={"email": CREDENTIALS["email"], "password": OWNER_PASSWORD})
    assert response.status_code == 422
    assert response.json == {
        "message": "The device name field is required.",
        "errors": {"device_name": ["The device name field is required."]},
    }


def test_blank_device_name_is_422(client, acme):
    response = issue(client, device_name="   ")
    assert response.status_code == 422
    assert response.json == {
        "message": "The device name field is required.",
        "errors": {"device_name": ["The device name field is required."]},
    }


def test_unknown_field_is_422_naming_it(client, acme):
    response = issue(client, scopes=["all"])
    assert response.status_code == 422
    assert response.json == {
        "message": "The scopes field is not allowed.",
        "errors": {"scopes": ["The scopes field is not allowed."]},
    }


def test_unknown_ability_is_422(client, acme):
    response = issue(client, abilities=["locations.view", "rockets.launch"])
    assert response.status_code == 422
    assert response.json == {
        "message": "Unknown abilities: rockets.launch.",
        "errors": {"abilities": ["Unknown abilities: rockets.launch."]},
    }


def test_expiry_in_the_past_is_422(client, acme):
    response = issue(client, expires_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat())
    assert response.status_code == 422
    assert response.json == {
        "message": "The expiry must be in the future.",
        "errors": {"expires_at": ["The expiry must be in the future."]},
    }


@pytest.mark.parametrize("value", ["2099-01-01T00:00:00", "tomorrow", "9999-12-31T23:59:59-14:00", 20990101])
def test_expiry_that_is_not_a_moment_in_utc_is_422(client, acme, value):
    response = issue(client, expires_at=value)
    assert response.status_code == 422
    message = "The expires at must be a date and time with a time zone (ISO 8601)."
    assert response.json == {"message": message, "errors": {"expires_at": [message]}}


def test_email_with_nul_is_400_not_a_database_error(client, acme):
    response = issue(client, email="owner@acme.example\x00")
    assert response.status_code == 400
    assert response.json == {"message": "The request contains a NUL character, which is not allowed."}


def test_wrong_password_is_checked_before_other_fields(client, acme):
    """A bad password never reveals which other fields would have been accepted."""
    response = issue(client, password="wrong-password", abilities=["rockets.launch"])
    assert response.status_code == 422
    assert response.json == BAD_CREDENTIALS


# --- using and losing a token --------------------------------------------------------

def test_expired_token_is_401(app, client, acme):
    from app.auth.models import AccessToken

    token = make_token(app, acme.owner_id)
    with app.app_context():
        db.session.execute(
            update(AccessToken).where(AccessToken.id == int(token.split("|")[0]))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            .execution_options(all_tenants=True)
        )
        db.session.commit()
    assert_401(client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}))


def test_revoked_token_is_401(app, client, acme):
    token = make_token(app, acme.owner_id)
    token_id = int(token.split("|")[0])
    headers = {"Authorization": f"Bearer {token}"}

    response = client.delete(f"/api/v1/me/tokens/{token_id}", headers=headers)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert token_row(app, token_id).revoked_at is not None
    assert_401(client.get("/api/v1/me", headers=headers))


def test_revoking_another_token_leaves_this_one_working(app, client, acme):
    keep = make_token(app, acme.owner_id, name="keep")
    drop = make_token(app, acme.owner_id, name="drop")
    headers = {"Authorization": f"Bearer {keep}"}

    assert client.delete(f"/api/v1/me/tokens/{drop.split('|')[0]}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert_401(client.get("/api/v1/me", headers={"Authorization": f"Bearer {drop}"}))


def test_wrong_secret_is_401(app, client, acme):
    token_id = make_token(app, acme.owner_id).split("|")[0]
    assert_401(client.get("/api/v1/me", headers={"Authorization": f"Bearer {token_id}|{'a' * 40}"}))


@pytest.mark.parametrize("value", ["abc", "1|", "x|y", "|secret", "Bearer", ""])
def test_malformed_bearer_is_401(client, acme, value):
    assert_401(client.get("/api/v1/me", headers={"Authorization": f"Bearer {value}"}))


def test_no_credential_is_401(client):
    assert_401(client.get("/api/v1/me"))


def test_inactive_user_token_is_401(app, client, acme):
    from app.team.models import User

    user_id = make_user(app, acme, "gone@acme.example", permissions=["locations.view"])
    token = make_token(app, user_id)
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(allow_login=False)
                           .execution_options(all_tenants=True))
        db.session.commit()
    assert_401(client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}))


# --- /me -----------------------------------------------------------------------------

def test_me_describes_user_business_and_abilities(app, api, acme):
    response = api.get("/api/v1/me")

    assert response.status_code == 200
    with app.app_context():
        from app.team.models import Business

        slug = db.session.get(Business, acme.business_id).slug
    assert response.json == {"data": {
        "id": acme.owner_id,
        "username": "owner@acme.example",
        "first_name": "Owner",
        "last_name": "Acme",
        "full_name": "Owner Acme",
        "email": "owner@acme.example",
        "role_name": "Admin",
        "business": {"id": acme.business_id, "name": "Acme Supplies", "slug": slug, "currency": "USD",
                     "timezone": "UTC", "plan": "free"},
        "abilities": ["*"],
        "permissions": all_permission_names(),
    }}


def test_token_abilities_narrow_permissions(api_as, acme):
    api = api_as(acme.owner_id, abilities=["locations.view"])

    me = api.get("/api/v1/me").json["data"]
    assert me["abilities"] == ["locations.view"]
    assert me["permissions"] == ["locations.view"]
    assert api.get("/api/v1/locations").status_code == 200
    response = api.post("/api/v1/locations", json={"name": "Depot"})
    assert response.status_code == 403
    assert response.json == {"message": "Unauthorized"}


def test_role_limits_an_all_abilities_token(app, api_as, acme):
    cashier = make_user(app, acme, "cashier@acme.example", permissions=["locations.view"], role_name="Till")
    api = api_as(cashier)

    me = api.get("/api/v1/me").json["data"]
    assert me["abilities"] == ["*"]
    assert me["permissions"] == ["locations.view"]
    assert me["role_name"] == "Till"
    response = api.post("/api/v1/locations", json={"name": "Depot"})
    assert response.status_code == 403
    assert response.json == {"message": "Unauthorized"}


# --- /me/tokens ----------------------------------------------------------------------

def test_my_tokens_lists_own_tokens_without_secrets(app, acme):
    first = make_token(app, acme.owner_id, name="first")
    # Listing tokens needs a "*" token or the tokens.manage ability (see test_privilege_escalation).
    second = make_token(app, acme.owner_id, abilities=["locations.view", "tokens.manage"], name="second")
    other_user = make_user(app, acme, "clerk@acme.example", permissions=["locations.view"])
    make_token(app, other_user, name="not mine")
    client = app.test_client()

    response = client.get("/api/v1/me/tokens", headers={"Authorization": f"Bearer {second}"})

    assert response.status_code == 200
    body = response.json
    assert [t["name"] for t in body["data"]] == ["second", "first"]
    assert [t["id"] for t in body["data"]] == [int(second.split("|")[0]), int(first.split("|")[0])]
    for token in body["data"]:
        assert set(token) == {"id", "name", "abilities", "created_at", "last_used_at", "expires_at", "revoked_at"}
    assert body["data"][0]["abilities"] == ["locations.view", "tokens.manage"]
    assert body["data"][0]["last_used_at"] is not None  # this very request used it
    text = response.get_data(as_text=True)
    for plain in (first, second):
        assert plain.split("|")[1] not in text
    assert body["meta"] == {"current_page": 1, "last_page": 1, "per_page": 2, "total": 2, "from": 1, "to": 2}
    assert body["links"]["prev"] is None and body["links"]["next"] is None


def test_get_one_of_my_tokens(app, api, acme):
    token_id = int(api.headers["Authorization"].split()[1].split("|")[0])
    response = api.get(f"/api/v1/me/tokens/{token_id}")
    assert response.status_code == 200
    assert response.json["data"]["id"] == token_id
    assert response.json["data"]["name"] == "test"


def test_token_of_another_business_is_404(app, api_as, acme, globex):
    globex_token = make_token(app, globex.owner_id)
    globex_id = int(globex_token.split("|")[0])
    api = api_as(acme.owner_id)

    for response in (api.get(f"/api/v1/me/tokens/{globex_id}"), api.delete(f"/api/v1/me/tokens/{globex_id}")):
        assert response.status_code == 404
        assert response.json == {"message": "Not found"}
    assert token_row(app, globex_id).revoked_at is None
    still = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {globex_token}"})
    assert still.status_code == 200


@pytest.mark.parametrize("token_id", ["999999", "9223372036854775808"])
def test_unknown_token_id_is_404(api, token_id):
    for response in (api.get(f"/api/v1/me/tokens/{token_id}"), api.delete(f"/api/v1/me/tokens/{token_id}")):
        assert response.status_code == 404
        assert response.json == {"message": "Not found"}


def test_revoking_another_users_token_needs_user_update(app, api_as, acme):
    clerk = make_user(app, acme, "clerk@acme.example", permissions=["locations.view"])
    owner_token_id = int(make_token(app, acme.owner_id).split("|")[0])

    response = api_as(clerk).delete(f"/api/v1/me/tokens/{owner_token_id}")
    assert response.status_code == 403
    assert token_row(app, owner_token_id).revoked_at is None
