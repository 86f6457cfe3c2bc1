"""`Idempotency-Key` on API writes: a retried request replays the first answer.

The key is claimed by inserting a row in the request's own transaction. A success (2xx)
stores its answer in that row and commits with the write itself, so the write and its
record can never disagree; any failure rolls both back and the key can be used again.
A concurrent duplicate waits on the unique index, then finds the stored answer and
replays it. The same key with a different request is a 422.
"""
import functools
import hashlib
from datetime import datetime, timedelta

from flask import make_response, request
from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.core.errors import Conflict, ValidationFailed
from app.core.models import utcnow
from app.extensions import db

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")


class IdempotencyKey(db.Model):
    """Not tenant-scoped: the credential that owns the key already belongs to one business."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("credential", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    credential: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    headers: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.get_data()):
        digest.update(part + b"\0")
    return digest.hexdigest()


def _stored(credential: str, key: str) -> IdempotencyKey | None:
    stmt = select(IdempotencyKey).where(IdempotencyKey.credential == credential, IdempotencyKey.key == key)
    return db.session.scalar(stmt)


def _replay(row: IdempotencyKey, fingerprint: str):
    if row.fingerprint != fingerprint:
        raise ValidationFailed({HEADER: ["This Idempotency-Key was already used with a different request."]})
    if row.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still being processed.")
    response = make_response(row.body or b"", row.status_code)
    for name, value in (row.headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _claim(credential: str, key: str, fingerprint: str) -> IdempotencyKey | None:
    """Insert the key; None when another request holds it already (then replay)."""
    row = IdempotencyKey(credential=credential, key=key, fingerprint=fingerprint,
                         created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return None
    return row


def idempotent(view):
    """Wrap an API write view (below `@blp.post(...)`, above `@blp.arguments(...)`)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if not key:
            return view(*args, **kwargs)
        if len(key) > 255:
            raise ValidationFailed({HEADER: ["The Idempotency-Key may not be greater than 255 characters."]})
        from app.auth.credentials import current_credential

        credential = current_credential().key
        fingerprint = _fingerprint()
        existing = _stored(credential, key)
        if existing is not None:
            return _replay(existing, fingerprint)
        row = _claim(credential, key, fingerprint)
        if row is None:
            return _replay(_stored(credential, key), fingerprint)
        response = make_response(view(*args, **kwargs))
        if 200 <= response.status_code < 300:
            row.status_code = response.status_code
            row.body = response.get_data()
            row.headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
        return response

    return wrapper


def forget_old_keys() -> int:
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEPT_FOR))
    return result.rowcount or 0
