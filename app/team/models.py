"""Businesses (the tenants) and the people in them: users, roles, permissions."""
from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from app.core.audit import Audited, register_entity_type
from app.core.models import TimestampMixin
from app.core.tenancy import TenantMixin
from app.extensions import db

ADMIN_ROLE = "Admin"
CASHIER_ROLE = "Cashier"
DEFAULT_ROLES = (ADMIN_ROLE, CASHIER_ROLE)


class Business(Audited, TimestampMixin, db.Model):
    __tablename__ = "businesses"
    __audit_entity__ = "business"
    __audited__ = ("name", "currency", "timezone", "plan", "user_quota", "subscription_status",
                   "enforce_subscription", "demo_mode", "decimal_separator")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    plan: Mapped[str] = mapped_column(String(20), default="free")
    user_quota: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    subscription_status: Mapped[str] = mapped_column(String(20), default="active")
    enforce_subscription: Mapped[bool] = mapped_column(Boolean, default=False)
    demo_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    # How people of this business write a decimal: "." (12.5) or "," (12,5).
    decimal_separator: Mapped[str] = mapped_column(String(1), default=".", server_default=".")

    @property
    def is_subscribed(self) -> bool:
        return self.subscription_status in {"active", "trialing"}


role_permissions = Table(
    "role_permissions",
    db.metadata,
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    Column("permission_id", ForeignKey("permissions.id", ondelete="CASCADE"), primary_key=True),
)

user_locations = Table(
    "user_locations",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("location_id", ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True),
)

# The contacts a user limited to selected contacts (seed 002 `selected_contacts`) may see.
user_contacts = Table(
    "user_contacts",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Permission(db.Model):
    """A permission name; global, so every business's roles share one catalogue."""

    __tablename__ = "permissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(191), unique=True)
    guard_name: Mapped[str] = mapped_column(String(40), default="web")


class Role(Audited, TenantMixin, TimestampMixin, db.Model):
    """A business role. `name` is stored as `Name#<business_id>` (seed 002)."""

    __tablename__ = "roles"
    __audit_entity__ = "role"
    __audited__ = ("name", "is_default", "is_service_staff", "permissions")
    __table_args__ = (UniqueConstraint("business_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(191))
    guard_name: Mapped[str] = mapped_column(String(40), default="web")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    is_service_staff: Mapped[bool] = mapped_column(Boolean, default=False)

    permissions: Mapped[list[Permission]] = relationship(
        secondary=role_permissions, lazy="selectin", order_by=Permission.name
    )

    @property
    def name_key(self) -> str:
        return self.name.rsplit("#", 1)[0]

    @property
    def display_name(self) -> str:
        """The name shown to people (the key; built-in labels would be translated here)."""
        return self.name_key

    @property
    def is_admin(self) -> bool:
        return self.is_default and self.name_key == ADMIN_ROLE

    @property
    def permission_names(self) -> list[str]:
        return sorted(p.name for p in self.permissions)

    def audit_label(self) -> str:
        return self.name_key

    def audit_value(self, key: str, value):
        return value.rsplit("#", 1)[0] if key == "name" and isinstance(value, str) else value


class User(UserMixin, Audited, TenantMixin, TimestampMixin, db.Model):
    """A staff user, or a commission agent when `is_cmmsn_agnt` is set (seed 002)."""

    __tablename__ = "users"
    __audit_entity__ = "user"
    # Not last_login_at (every sign-in), session_nonce (a secret) or timestamps.
    __audited__ = ("surname", "first_name", "last_name", "username", "email", "contact_number", "address",
                   "language", "status", "allow_login", "password_hash", "is_cmmsn_agnt", "cmmsn_percent",
                   "role_id", "selected_contacts", "location_scope", "deleted_at", "locations")
    __audit_secrets__ = {"password_hash": "password"}
    __audit_references__ = {"role_id": "role"}
    __audit_soft_delete__ = "deleted_at"

    id: Mapped[int] = mapped_column(primary_key=True)
    surname: Mapped[str | None] = mapped_column(String(30))
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    username: Mapped[str | None] = mapped_column(String(120), unique=True)
    email: Mapped[str | None] = mapped_column(String(191), index=True)
    contact_number: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(10), default="en")
    status: Mapped[str] = mapped_column(String(20), default="active")
    allow_login: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_cmmsn_agnt: Mapped[bool] = mapped_column(Boolean, default=False)
    cmmsn_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id", ondelete="SET NULL"), index=True)
    selected_contacts: Mapped[bool] = mapped_column(Boolean, default=False)
    location_scope: Mapped[str] = mapped_column(String(20), default="all")
    # Changing it signs the user out everywhere (password reset, login disabled).
    session_nonce: Mapped[int] = mapped_column(Integer, default=0)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    business: Mapped[Business] = relationship(lazy="joined")
    role: Mapped[Role | None] = relationship(lazy="joined")
    locations = relationship("Location", secondary=user_locations, order_by="Location.name")
    # The contacts a user with `selected_contacts` is limited to (app.pipelines.access).
    contacts = relationship("Contact", secondary=user_contacts, order_by="Contact.id")

    @property
    def full_name(self) -> str:
        parts = (self.surname, self.first_name, self.last_name)
        return " ".join(p.strip() for p in parts if p and p.strip())

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot sign in
        return self.status == "active" and self.allow_login and self.deleted_at is None

    # The browser session this instance was signed in with on this request, not columns
    # (set by app.auth.sessions; None outside a signed-in browser request).
    current_session = None
    session_token = None

    def get_id(self) -> str:
        """What the session and remember-me cookies carry: `<id>.<session token>`.

        Without a session from app.auth.sessions.start_session there is no token, and the
        loader refuses the id: every sign-in must go through start_session.
        """
        return f"{self.id}.{self.session_token or ''}"

    def audit_entity_type(self) -> str:
        return "commission_agent" if self.is_cmmsn_agnt else "user"

    def audit_label(self) -> str:
        return self.full_name


register_entity_type("commission_agent", "Commission agent")


# Defined here, after User: a correlated count, so a list of roles reads its users in the
# same SELECT (no N+1) and can sort by it. Deferred: loading a user's role (every request)
# does not pay for it; role queries ask for it with undefer(Role.users_count).
Role.users_count = column_property(
    select(func.count(User.id))
    .where(User.role_id == Role.id, User.deleted_at.is_(None))
    .correlate_except(User)
    .scalar_subquery(),
    deferred=True,
)
