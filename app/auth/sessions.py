"""Browser sessions kept on the server: start, check, end.

Flask's session is a signed cookie the server cannot take back, and Flask-Login's
remember-me cookie is another. Each sign-in therefore gets a `UserSession` row, and both
cookies carry `<user id>.<token>` (User.get_id()). A request is signed in only while
its row is unrevoked and was issued under the user's current `session_nonce`, so:

- signing out revokes this browser's row: copies of its old cookies open nothing;
- `end_all_sessions` (sign out everywhere, a password or role change, password reset,
  sign-in taken away) revokes every row of the user and bumps the nonce, which also
  kills any remember-me cookie issued before;
- deactivation and deletion end sessions through `User.is_active`, as before: the rows
  stay, so reactivating a user brings their sessions back (unchanged behaviour).
"""
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.credentials import hash_secret
from app.auth.models import UserSession
from app.core.errors import NotFound
from app.core.models import as_utc, utcnow
from app.core.sqlite import write_aside
from app.extensions import db
from app.team.models import User

# last_seen_at is written at most once a minute, so page views do not each write a row.
LAST_SEEN_GRANULARITY = timedelta(minutes=1)
MAX_USER_AGENT = 255
DEFAULT_IDLE_LIMIT = timedelta(days=365)  # Flask-Login's remember-me cookie default
KEEP_ENDED_FOR = timedelta(days=30)  # ended rows stay a while (e.g. to look into a sign-out)


def start_session(user: User, ip: str | None, user_agent: str | None) -> UserSession:
    """A new server-side session for `user`; call right before flask_login.login_user."""
    token = secrets.token_urlsafe(32)
    row = UserSession(user_id=user.id, business_id=user.business_id, token_hash=hash_secret(token),
                      nonce=user.session_nonce or 0, ip=(ip or None) and ip[:45],
                      user_agent=(user_agent or "")[:MAX_USER_AGENT] or None)
    db.session.add(row)
    db.session.flush()
    _attach(user, row, token)
    return row


def user_for_session(session_id: str | None) -> User | None:
    """Flask-Login's user loader: the user of a live session, None for anything else."""
    user_id, _, token = (session_id or "").partition(".")
    if not user_id.isdecimal() or not token:
        return None  # also cookies from before server-side sessions ("<id>.<nonce>")
    stmt = select(UserSession).where(UserSession.token_hash == hash_secret(token))
    row = db.session.scalar(stmt.execution_options(all_tenants=True))
    if row is None or row.user_id != int(user_id) or row.revoked_at is not None:
        return None
    if _idle_too_long(row):
        return None  # a copied remember-me cookie does not live longer than the cookie would
    user = db.session.scalar(select(User).where(User.id == row.user_id).execution_options(all_tenants=True))
    if user is None or not user.is_active or row.nonce != (user.session_nonce or 0):
        return None
    _touch(row)
    _attach(user, row, token)
    return user


def end_session(user: User) -> None:
    """Sign-out: this browser's session ends on the server too."""
    row = getattr(user, "current_session", None)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


def end_all_sessions(user: User, keep_current: bool = True) -> None:
    """Sign `user` out of every browser, remember-me cookies included.

    When `user` is the one signed in on this request (they changed their own password or
    role), this browser stays signed in and every other one is signed out: people expect
    to stay signed in where they made the change. "Sign out everywhere" passes
    keep_current=False. API tokens are credentials of their own and are not touched.
    """
    user.session_nonce = (user.session_nonce or 0) + 1
    keep = getattr(user, "current_session", None) if keep_current else None
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
        keep.nonce = user.session_nonce
    db.session.execute(stmt.values(revoked_at=utcnow()).execution_options(all_tenants=True,
                                                                          synchronize_session="fetch"))


def live_sessions(user: User) -> list[UserSession]:
    """The browsers `user` is signed in on, most recently seen first."""
    stmt = (select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
                   UserSession.nonce == (user.session_nonce or 0))
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))
    return list(db.session.scalars(stmt.execution_options(all_tenants=True)))


def end_other_session(user: User, session_id: int) -> UserSession:
    """Sign one of your other browsers out (the signed-in devices list)."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id:
        raise NotFound()
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def idle_limit() -> timedelta:
    """How long an unused session lives: as long as Flask-Login's remember-me cookie."""
    duration = current_app.config.get("REMEMBER_COOKIE_DURATION") or DEFAULT_IDLE_LIMIT
    return duration if isinstance(duration, timedelta) else timedelta(seconds=int(duration))


def _idle_too_long(row: UserSession) -> bool:
    return row.last_seen_at is not None and utcnow() - as_utc(row.last_seen_at) > idle_limit()


def forget_ended_sessions() -> int:
    """Delete rows nobody can use again: ended a while ago, or idle past the limit."""
    now = utcnow()
    stmt = delete(UserSession).where(
        (UserSession.revoked_at < now - KEEP_ENDED_FOR) | (UserSession.last_seen_at < now - idle_limit()))
    result = db.session.execute(stmt.execution_options(all_tenants=True, synchronize_session=False))
    return result.rowcount or 0


def _attach(user: User, row: UserSession, token: str) -> None:
    # Plain attributes on this request's User instance: get_id() puts the token in the
    # cookies, and end_all_sessions() knows which session to keep.
    user.current_session = row
    user.session_token = token


def _touch(row: UserSession) -> None:
    """Bookkeeping: written aside, so a page view never fails on it (app.core.sqlite)."""
    now = utcnow()
    if row.last_seen_at is not None and now - as_utc(row.last_seen_at) <= LAST_SEEN_GRANULARITY:
        return
    table = UserSession.__table__
    stmt = update(table).where(table.c.id == row.id).values(last_seen_at=now)
    if write_aside(stmt.execution_options(all_tenants=True)):
        set_committed_value(row, "last_seen_at", now)
