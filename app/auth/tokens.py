"""Personal access tokens: issue, list, revoke."""
from datetime import datetime

from sqlalchemy import select

from app.auth.credentials import hash_secret, new_secret
from app.auth.models import AccessToken
from app.auth.services import authenticate
from app.core.errors import NotFound, ValidationFailed
from app.core.models import as_utc, utcnow
from app.core.permissions import ALL_ABILITIES, Actor, all_permission_names, require
from app.extensions import db
from app.team.models import User

MAX_NAME = 120


def _validate(name: str, abilities, expires_at: datetime | None) -> tuple[str, list[str]]:
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["The name field is required."]
    elif len(name) > MAX_NAME:
        errors["name"] = [f"The name may not be greater than {MAX_NAME} characters."]
    abilities = sorted(set(abilities)) if abilities else [ALL_ABILITIES]
    known = set(all_permission_names()) | {ALL_ABILITIES}
    unknown = [a for a in abilities if a not in known]
    if unknown:
        errors["abilities"] = [f"Unknown abilities: {', '.join(unknown)}."]
    if expires_at is not None and as_utc(expires_at) <= utcnow():
        errors["expires_at"] = ["The expiry must be in the future."]
    if errors:
        raise ValidationFailed(errors)
    return name, abilities


def _issue(user: User, name: str, abilities, expires_at) -> tuple[AccessToken, str]:
    name, abilities = _validate(name, abilities, expires_at)
    secret = new_secret()
    token = AccessToken(
        user_id=user.id, business_id=user.business_id, name=name, token_hash=hash_secret(secret),
        abilities=abilities, expires_at=as_utc(expires_at),
    )
    db.session.add(token)
    db.session.flush()
    return token, f"{token.id}|{secret}"


def issue_token_for_login(email: str, password: str, device_name: str, abilities=None, expires_at=None,
                          ip: str | None = None):
    """POST /tokens: exchange an e-mail and password for a token (Sanctum's flow).

    Failures count against the account and `ip` (the caller's address); past the limit
    this raises TooManyAttempts (429 with Retry-After)."""
    user = authenticate(email, password, ip)
    if user is None:
        raise ValidationFailed({"email": ["The provided credentials are incorrect."]})
    try:
        return _issue(user, device_name, abilities, expires_at)
    except ValidationFailed as exc:
        if "name" in exc.errors:  # the API calls the name device_name
            exc.errors["device_name"] = [m.replace("name", "device name", 1) for m in exc.errors.pop("name")]
            exc.message = ValidationFailed(exc.errors).message
        raise


def token_owner(actor: Actor, user_id: int) -> User:
    """Yourself, or (with user.update) another user of your business."""
    if user_id == actor.user.id:
        return actor.user
    require(actor, "user.update")
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None or user.is_cmmsn_agnt:  # agents never sign in
        raise NotFound()
    return user


def create_token(actor: Actor, user_id: int, name: str, abilities=None, expires_at=None):
    user = token_owner(actor, user_id)
    if abilities and not actor.is_admin:
        # Nobody hands out more than their own role allows.
        beyond = [a for a in abilities if a != ALL_ABILITIES and not actor.can(a)]
        if beyond:
            raise ValidationFailed({"abilities": [f"You cannot grant: {', '.join(sorted(beyond))}."]})
    return _issue(user, name, abilities, expires_at)


def list_tokens(actor: Actor, user_id: int) -> list[AccessToken]:
    user = token_owner(actor, user_id)
    stmt = select(AccessToken).where(AccessToken.user_id == user.id).order_by(AccessToken.created_at.desc())
    return list(db.session.scalars(stmt))


def get_token(actor: Actor, token_id: int) -> AccessToken:
    token = db.session.get(AccessToken, token_id)
    if token is None:
        raise NotFound()
    token_owner(actor, token.user_id)
    return token


def revoke_token(actor: Actor, token_id: int) -> AccessToken:
    token = get_token(actor, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token
