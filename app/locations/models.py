from sqlalchemy import Boolean, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.audit import Audited
from app.core.models import TimestampMixin, VersionedMixin
from app.core.tenancy import TenantMixin
from app.extensions import db


class Location(Audited, TenantMixin, TimestampMixin, VersionedMixin, db.Model):
    """A shop, office or site of the business."""

    __tablename__ = "locations"
    __audit_entity__ = "location"
    __audited__ = ("name", "code", "landmark", "city", "state", "country", "zip_code", "mobile", "email", "website",
                   "is_active")
    __table_args__ = (
        UniqueConstraint("business_id", "code"),
        Index("ix_locations_business_id_name", "business_id", "name"),
        Index("ix_locations_business_id_created_at", "business_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    code: Mapped[str | None] = mapped_column(String(40))
    landmark: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    zip_code: Mapped[str | None] = mapped_column(String(20))
    mobile: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(191))
    website: Mapped[str | None] = mapped_column(String(191))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
