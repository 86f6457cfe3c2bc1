"""API credential lookup: one entry point, many kinds of credential.

Each resolver looks at the request and returns a `Credential`, None (not its kind), or
raises `BadCredential` (its kind, but wrong). They are tried in registration order;
API keys, application passwords and OAuth2 tokens join by registering a resolver.
"""
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import request
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.core.models import as_utc, utcnow
from app.core.sqlite import write_aside
from app.extensions import db

_RESOLVERS: list[Callable] = []
_UNRESOLVED = object()
_CACHE_KEY = "trellis.api_credential"
LAST_USED_GRANULARITY = timedelta(minutes=1)


class BadCredential(Exception):
    pass


@dataclass
class Credential:
    kind: str  # "token", "api_key", "app_password", "oauth"
    id: int
    user: object
    abilities: frozenset = field(default_factory=lambda: frozenset({"*"}))
    record: object = None

    @property
    def key(self) -> str:
        """Identity for rate limits: one bucket per credential."""
        return f"{self.kind}:{self.id}"


def register_resolver(resolver: Callable) -> Callable:
    _RESOLVERS.append(resolver)
    return resolver


def current_credential() -> Credential | None:
    """The request's credential, resolved once per request (None when absent or bad)."""
    # Cached on the request, not on `g`: an app context can outlive one request.
    cached = request.environ.get(_CACHE_KEY, _UNRESOLVED)
    if cached is not _UNRESOLVED:
        return cached
    credential = None
    for resolver in _RESOLVERS:
        try:
            credential = resolver(request)
        except BadCredential:
            credential = None
            break
        if credential is not None:
            break
    if credential is not None and not credential.user.is_active:
        credential = None
    request.environ[_CACHE_KEY] = credential
    return credential


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_hex(20)  # 40 characters, as Sanctum's


def bearer_value() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


@register_resolver
def personal_access_token(req) -> Credential | None:
    from app.auth.models import AccessToken

    value = bearer_value()
    if value is None or "|" not in value:
        return None
    token_id, _, secret = value.partition("|")
    if not token_id.isdecimal() or not secret:
        raise BadCredential()
    token = db.session.scalar(
        select(AccessToken).where(AccessToken.id == int(token_id)).execution_options(all_tenants=True)
    )
    if token is None or not hmac.compare_digest(token.token_hash, hash_secret(secret)) or not token.is_usable:
        raise BadCredential()
    _touch(token)
    return Credential(kind="token", id=token.id, user=token.user, abilities=frozenset(token.abilities or []),
                      record=token)


def _touch(token) -> None:
    """Record use, at most once a minute, so busy integrations do not write every call.
    Bookkeeping: written aside, so it can never fail the request (app.core.sqlite)."""
    now = utcnow()
    if token.last_used_at is not None and now - as_utc(token.last_used_at) <= LAST_USED_GRANULARITY:
        return
    table = type(token).__table__
    stmt = update(table).where(table.c.id == token.id).values(last_used_at=now)
    if write_aside(stmt.execution_options(all_tenants=True)):
        set_committed_value(token, "last_used_at", now)  # this request sees it, nothing left to flush
