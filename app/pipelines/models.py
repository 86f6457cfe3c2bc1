"""Sales pipelines: accounts, contacts, leads, pipelines and stages, deals, activities.

Every list screen and endpoint sorts and filters on indexes that start with
`business_id`, because every query is scoped to one business by the tenancy hook.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import TimestampMixin, VersionedMixin
from app.core.tenancy import TenantMixin
from app.extensions import db

ENTITY_KINDS = ("contact", "account", "lead", "deal")
LEAD_STATUSES = ("new", "contacted", "qualified", "unqualified", "converted")
DEAL_STATUSES = ("open", "won", "lost")
STAGE_KINDS = ("open", "won", "lost")
ACTIVITY_TYPES = ("call", "meeting", "task", "note", "event")
CUSTOM_FIELD_TYPES = ("text", "number", "date", "choice", "checkbox")
DEFAULT_CONTACT_STATUSES = ("Lead", "Customer")


def _owner_column():
    return mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class OwnedMixin:
    """A record a staff user owns (seed 003's owner / assign)."""

    owner_id: Mapped[int | None] = _owner_column()


class ImportedRowMixin:
    """The CSV import and row (spreadsheet numbering) that created a record. Unique
    together, so a replayed import batch can never create a row a second time. No foreign
    key: it records provenance, and adding one would make SQLite rebuild these tables."""

    import_id: Mapped[int | None] = mapped_column(Integer)
    import_row: Mapped[int | None] = mapped_column(Integer)


def imported_row_index(table: str) -> Index:
    return Index(f"ux_{table}_import_id_import_row", "import_id", "import_row", unique=True)


class AddressMixin:
    """The address fields of seed 003 (addr1 ... country)."""

    addr1: Mapped[str | None] = mapped_column(String(200))
    addr2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    county: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(100))


class Account(TenantMixin, OwnedMixin, AddressMixin, TimestampMixin, VersionedMixin, db.Model):
    """A company the business sells to."""

    __tablename__ = "accounts"
    __table_args__ = (
        Index("ix_accounts_business_id_name", "business_id", "name"),
        Index("ix_accounts_business_id_created_at", "business_id", "created_at"),
        Index("ix_accounts_business_id_owner_id", "business_id", "owner_id"),
        Index("ix_accounts_business_id_domain", "business_id", "domain"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(191))
    industry: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(191))
    custom_fields: Mapped[dict] = mapped_column(JSON, default=dict)

    owner = relationship("User", foreign_keys="Account.owner_id", lazy="raise")


class ContactStatus(TenantMixin, db.Model):
    """The statuses a business gives its contacts (Lead, Customer, and its own)."""

    __tablename__ = "contact_statuses"
    __table_args__ = (UniqueConstraint("business_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_customer: Mapped[bool] = mapped_column(Boolean, default=False)


contact_tags = Table(
    "contact_tags",
    db.metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(TenantMixin, db.Model):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("business_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))


class Contact(TenantMixin, OwnedMixin, AddressMixin, ImportedRowMixin, TimestampMixin, VersionedMixin, db.Model):
    """A person; a "customer" when its status says so (seed 003's customer)."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_business_id_last_name", "business_id", "last_name", "first_name"),
        Index("ix_contacts_business_id_email", "business_id", "email"),
        Index("ix_contacts_business_id_created_at", "business_id", "created_at"),
        Index("ix_contacts_business_id_owner_id", "business_id", "owner_id"),
        Index("ix_contacts_business_id_status", "business_id", "status"),
        Index("ix_contacts_business_id_account_id", "business_id", "account_id"),
        imported_row_index("contacts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str | None] = mapped_column(String(20))
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    suffix: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(191))
    home_phone: Mapped[str | None] = mapped_column(String(40))
    work_phone: Mapped[str | None] = mapped_column(String(40))
    mobile_phone: Mapped[str | None] = mapped_column(String(40))
    secaddr_addr1: Mapped[str | None] = mapped_column(String(200))
    secaddr_addr2: Mapped[str | None] = mapped_column(String(200))
    secaddr_city: Mapped[str | None] = mapped_column(String(100))
    secaddr_county: Mapped[str | None] = mapped_column(String(100))
    secaddr_postcode: Mapped[str | None] = mapped_column(String(20))
    secaddr_country: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(40), default="Lead")
    source: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    custom_fields: Mapped[dict] = mapped_column(JSON, default=dict)

    account = relationship("Account", lazy="raise")
    owner = relationship("User", foreign_keys="Contact.owner_id", lazy="raise")
    tags = relationship("Tag", secondary=contact_tags, order_by="Tag.name", lazy="raise")

    @property
    def name(self) -> str:
        parts = (self.first_name, self.last_name)
        return " ".join(p for p in parts if p) or (self.email or "")


class Lead(TenantMixin, OwnedMixin, ImportedRowMixin, TimestampMixin, VersionedMixin, db.Model):
    """Someone who showed interest and is not yet a contact (seed 000's lead)."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_business_id_created_at", "business_id", "created_at"),
        Index("ix_leads_business_id_email", "business_id", "email"),
        Index("ix_leads_business_id_status", "business_id", "status"),
        Index("ix_leads_business_id_owner_id", "business_id", "owner_id"),
        Index("ix_leads_business_id_last_name", "business_id", "last_name", "first_name"),
        imported_row_index("leads"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(191))
    phone: Mapped[str | None] = mapped_column(String(40))
    company_name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(100))
    utm_source: Mapped[str | None] = mapped_column(String(100))
    utm_medium: Mapped[str | None] = mapped_column(String(100))
    utm_campaign: Mapped[str | None] = mapped_column(String(100))
    utm_term: Mapped[str | None] = mapped_column(String(100))
    utm_content: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="new")
    custom_fields: Mapped[dict] = mapped_column(JSON, default=dict)
    capture_form_id: Mapped[int | None] = mapped_column(ForeignKey("capture_forms.id", ondelete="SET NULL"))
    # What converting the lead produced, and who did it when.
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    converted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"))

    owner = relationship("User", foreign_keys="Lead.owner_id", lazy="raise")
    converted_by = relationship("User", foreign_keys="Lead.converted_by_id", lazy="raise")

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or (self.email or "")


class Pipeline(TenantMixin, TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "pipelines"
    __table_args__ = (Index("ix_pipelines_business_id_position", "business_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    stages = relationship(
        "Stage", back_populates="pipeline", order_by="Stage.position", lazy="selectin",
        cascade="all, delete-orphan", passive_deletes=True,
    )


class Stage(TenantMixin, TimestampMixin, VersionedMixin, db.Model):
    """A column of a pipeline's board. Entering a won/lost stage closes the deal."""

    __tablename__ = "stages"
    __table_args__ = (Index("ix_stages_business_id_pipeline_id_position", "business_id", "pipeline_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    probability: Mapped[int] = mapped_column(Integer, default=0)  # percent, 0..100
    kind: Mapped[str] = mapped_column(String(10), default="open")
    rotting_days: Mapped[int | None] = mapped_column(Integer)

    pipeline = relationship("Pipeline", back_populates="stages")


class Deal(TenantMixin, OwnedMixin, ImportedRowMixin, TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_business_id_stage_id_position", "business_id", "stage_id", "position"),
        Index("ix_deals_business_id_pipeline_id_status", "business_id", "pipeline_id", "status"),
        Index("ix_deals_business_id_created_at", "business_id", "created_at"),
        Index("ix_deals_business_id_owner_id", "business_id", "owner_id"),
        Index("ix_deals_business_id_contact_id", "business_id", "contact_id"),
        Index("ix_deals_business_id_account_id", "business_id", "account_id"),
        Index("ix_deals_business_id_status_closed_at", "business_id", "status", "closed_at"),
        Index("ix_deals_business_id_commission_agent_id", "business_id", "commission_agent_id", "closed_at"),
        imported_row_index("deals"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer, default=0)  # order inside its column
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    # The commission agent (seed 002) this deal is attributed to, for commission statements.
    commission_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    lost_reason: Mapped[str | None] = mapped_column(String(500))
    # When the deal entered its current stage (card age, rotting), and when it was won or lost.
    stage_entered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    custom_fields: Mapped[dict] = mapped_column(JSON, default=dict)

    pipeline = relationship("Pipeline", lazy="raise")
    stage = relationship("Stage", lazy="raise")
    contact = relationship("Contact", lazy="raise")
    account = relationship("Account", lazy="raise")
    owner = relationship("User", foreign_keys="Deal.owner_id", lazy="raise")
    commission_agent = relationship("User", foreign_keys="Deal.commission_agent_id", lazy="raise")

    @property
    def won_at(self) -> datetime | None:
        return self.closed_at if self.status == "won" else None

    @property
    def lost_at(self) -> datetime | None:
        return self.closed_at if self.status == "lost" else None


class Activity(TenantMixin, OwnedMixin, TimestampMixin, VersionedMixin, db.Model):
    """A call, meeting, task, note or event on a contact, account, lead or deal."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_business_id_subject", "business_id", "activityable_type", "activityable_id"),
        Index("ix_activities_business_id_owner_id_due_at", "business_id", "owner_id", "completed", "due_at"),
        Index("ix_activities_business_id_created_at", "business_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(20), default="note")
    subject: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notify: Mapped[int] = mapped_column(Integer, default=0)  # hours before (seed 003: 0 or 24)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The record it belongs to: activityable_type in ENTITY_KINDS, with that record's id.
    activityable_type: Mapped[str | None] = mapped_column(String(20))
    activityable_id: Mapped[int | None] = mapped_column(Integer)

    owner = relationship("User", foreign_keys="Activity.owner_id", lazy="raise")


class CustomField(TenantMixin, TimestampMixin, db.Model):
    """A field a business adds to contacts, leads, deals or accounts."""

    __tablename__ = "custom_fields"
    __table_args__ = (
        UniqueConstraint("business_id", "entity", "key"),
        Index("ix_custom_fields_business_id_entity_position", "business_id", "entity", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(20), default="text")
    options: Mapped[list] = mapped_column(JSON, default=list)  # the choices of a "choice" field
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CaptureForm(TenantMixin, TimestampMixin, VersionedMixin, db.Model):
    """A public lead-capture form: where its leads go and who may post it."""

    __tablename__ = "capture_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Public, not a secret: it sits in the embedding page. Unique across businesses.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    pipeline_id: Mapped[int | None] = mapped_column(ForeignKey("pipelines.id", ondelete="SET NULL"))
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = _owner_column()
    allowed_origins: Mapped[list] = mapped_column(JSON, default=list)
    honeypot_field: Mapped[str] = mapped_column(String(60), default="website_url")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    pipeline = relationship("Pipeline", lazy="raise")
    stage = relationship("Stage", lazy="raise")
    owner = relationship("User", lazy="raise")


class LeadWebhookSecret(TenantMixin, TimestampMixin, db.Model):
    """The business's inbound-lead webhook secret: only its SHA-256 is kept."""

    __tablename__ = "lead_webhook_secrets"
    __table_args__ = (UniqueConstraint("business_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))  # the last characters, to recognise it
    created_by_id: Mapped[int | None] = _owner_column()


class ImportJob(TenantMixin, TimestampMixin, db.Model):
    """A CSV import: the uploaded file, its column mapping, and how far the job got."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_business_id_created_at", "business_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # contacts, leads, deals
    filename: Mapped[str] = mapped_column(String(255))
    # The file itself, kept until the import is done (uploads are capped by MAX_CONTENT_LENGTH).
    content: Mapped[str] = mapped_column(Text, deferred=True)
    status: Mapped[str] = mapped_column(String(20), default="mapping")  # mapping, queued, running, done, failed
    mode: Mapped[str] = mapped_column(String(10), default="update")  # rows matching an e-mail: update or skip
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)  # CSV column -> field
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)  # [{"row": 3, "errors": {field: [..]}}]
    failure: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = _owner_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The runner working on it (a lease): its token, and when it last finished a batch. A
    # heartbeat older than IMPORT_STALL_SECONDS means the runner died; another may take over.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the credential that started it allowed (Actor.abilities, sorted): NULL for a
    # browser session (the role alone decides). The worker acts with these, not the role.
    abilities: Mapped[list | None] = mapped_column(JSON)

    created_by = relationship("User", lazy="raise")

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == "done" else 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))


class ExportJob(TenantMixin, TimestampMixin, db.Model):
    """A CSV export built by the worker into a file, for exports too long for a request.

    The file is written under a temporary name and renamed into place only when every row
    is in it, so a file that exists is a whole export; a failed job has no file.
    """

    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_business_id_created_at", "business_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # contacts, accounts, leads, deals, activities
    layout: Mapped[str] = mapped_column(String(10), default="list")  # list (the API's columns) or import
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # the list's query string: {name: [values]}
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued, running, completed, failed, expired
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    file_path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = _owner_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # As ImportJob.abilities: the starting credential's abilities, NULL for a browser session.
    abilities: Mapped[list | None] = mapped_column(JSON)

    created_by = relationship("User", lazy="raise")

    @property
    def percent(self) -> int:
        if self.status == "completed":
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(self.rows_done * 100 / self.rows_total))

    @property
    def filename(self) -> str:
        return f"{self.kind}-export-{self.id}.csv"
