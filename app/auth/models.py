from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import as_utc, utcnow
from app.core.tenancy import TenantMixin
from app.extensions import db


class AccessToken(TenantMixin, db.Model):
    """A personal access token, `<id>|<secret>` as Sanctum issues them.

    Only the SHA-256 of the secret is kept: the plain token is shown once, at creation.
    """

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    abilities: Mapped[list] = mapped_column(JSON, default=lambda: ["*"])
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user = relationship("User", lazy="joined")

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and as_utc(self.expires_at) <= utcnow()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class UserSession(TenantMixin, db.Model):
    """One signed-in browser: the server's half of the session and remember-me cookies.

    The cookies carry `<user id>.<token>`; only the SHA-256 of the token is kept. Signing
    out revokes the row, so a copy of the old cookies opens nothing. `nonce` is the user's
    `session_nonce` when the row was (re)issued: bumping the user's nonce (password reset,
    sign-in taken away, sign out everywhere) ends every row at once, even one a caller
    forgot to revoke.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
