"""Personal access tokens: issue, list, revoke.

Managing tokens needs a full-ability credential (a browser session, a "*" token) or a
token with the `tokens.manage` ability; another user's tokens need `user.tokens` and a
user within the actor's reach (app.team.escalation). A token never grants more than the
actor holds: its abilities are checked against the actor, "*" meaning the user's role.
"""
from datetime import datetime

from sqlalchemy import select

from app.auth.credentials import hash_secret, new_secret
from app.auth.models import AccessToken
from app.auth.services import authenticate
from app.core.errors import Forbidden, NotFound, ValidationFailed
from app.core.models import as_utc, utcnow
from app.core.permissions import ALL_ABILITIES, CREDENTIAL_ABILITIES, TOKENS_MANAGE, Actor, all_permission_names
from app.extensions import db
from app.team.escalation import (
    ensure_can_act_on,
    ensure_can_manage_tokens,
    ensure_within_reach,
    has_full_ability,
    role_grants,
)
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
    known = set(all_permission_names()) | set(CREDENTIAL_ABILITIES) | {ALL_ABILITIES}
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


OTHERS_TOKENS_MESSAGE = "Managing another user's tokens needs the user.tokens permission."


def token_owner(actor: Actor, user_id: int) -> User:
    """Yourself, or (with user.tokens) another user of your business within your reach."""
    ensure_can_manage_tokens(actor)
    if user_id == actor.user.id:
        return actor.user
    if not actor.can("user.tokens"):
        raise Forbidden(OTHERS_TOKENS_MESSAGE)
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None or user.is_cmmsn_agnt:  # agents never sign in
        raise NotFound()
    ensure_can_act_on(actor, user)
    return user


def _granted(user: User, abilities) -> set[str]:
    """What a token with `abilities` lets its holder do: "*" (or none named) is the user's role."""
    names = set(abilities or [ALL_ABILITIES])
    if ALL_ABILITIES in names:
        names = (names - {ALL_ABILITIES}) | role_grants(user.role)
    return names - set(CREDENTIAL_ABILITIES)


def ability_choices(actor: Actor) -> list[str]:
    """The abilities the actor may put on a token, credential abilities included."""
    extra = [TOKENS_MANAGE] if has_full_ability(actor) or TOKENS_MANAGE in actor.abilities else []
    return sorted([name for name in all_permission_names() if actor.can(name)] + extra)


def create_token(actor: Actor, user_id: int, name: str, abilities=None, expires_at=None):
    user = token_owner(actor, user_id)  # also: the actor may manage tokens (so tokens.manage is theirs to give)
    _validate(name, abilities, expires_at)  # a misspelt ability is a 422, not "out of reach"
    # Nobody hands out more than they hold (403); "*" is the token user's whole role.
    ensure_within_reach(actor, _granted(user, abilities), "give a token")
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
