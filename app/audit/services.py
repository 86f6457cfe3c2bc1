"""Reading the audit log (Settings → Audit log and /api/v1/audit-log). Entries are
written by app.core.audit and never changed: there is nothing here to edit or delete."""
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from marshmallow import ValidationError, fields, validates_schema
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from app.core.audit import ACTIONS, REDACTED, AuditEntry
from app.core.errors import NotFound, ValidationFailed
from app.core.listing import Filter, ListParams, ListSpec, fetch_page, flatten_errors, iter_rows
from app.core.models import as_utc
from app.core.permissions import Actor, require
from app.extensions import db
from app.team.models import User

AUDIT_LIST = ListSpec(
    name="AuditEntry",
    sorts={"created_at": AuditEntry.created_at, "entity_type": AuditEntry.entity_type,
           "action": AuditEntry.action},
    default_sort="created_at",
    default_direction="desc",
    search=(AuditEntry.entity_label, AuditEntry.actor_name),
    filters={
        "entity_type": Filter(AuditEntry.entity_type, description="What changed: user, commission_agent, role,"
                                                                  " business, location, ..."),
        "entity_id": Filter(AuditEntry.entity_id, kind="int", description="The changed record's id."),
        "action": Filter(AuditEntry.action, choices=ACTIONS),
        "user_id": Filter(AuditEntry.actor_id, kind="int", description="Who made the change (a user id)."),
        "credential": Filter(AuditEntry.credential, description="How: browser, token, ... or system."),
    },
)
CREDENTIAL_LABELS = {"browser": "Browser", "token": "API token", "api_key": "API key",
                     "app_password": "App password", "oauth": "OAuth app", "system": "System"}
FIELD_LABELS = {"cmmsn_percent": "Commission %", "zip_code": "Postcode", "is_active": "Active",
                "is_service_staff": "Service staff", "is_default": "Default role", "allow_login": "Can sign in",
                "is_cmmsn_agnt": "Commission agent", "deleted_at": "Deleted", "user_quota": "User quota",
                "enforce_subscription": "Enforce subscription", "decimal_separator": "Number format"}


@dataclass
class AuditParams(ListParams):
    date_from: date | None = None
    date_to: date | None = None

    def query_args(self, **overrides) -> dict:
        dates = {"date_from": self.date_from and self.date_from.isoformat(),
                 "date_to": self.date_to and self.date_to.isoformat()}
        return ListParams.query_args(self, **{**dates, **overrides})


def _date(label: str):
    return fields.Date(error_messages={"invalid": f"The {label} must be a date (YYYY-MM-DD)."},
                       metadata={"description": f"{label.capitalize()}, inclusive, in the business's time zone."})


class AuditLogArgs(AUDIT_LIST.args_schema()):
    date_from = _date("date from")
    date_to = _date("date to")

    @validates_schema
    def _dates_in_order(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError({"date_to": ["The date to must be a date after or equal to date from."]})

    def _to_params(self, raw: dict) -> AuditParams:
        params = super()._to_params(raw)
        values = {f.name: getattr(params, f.name) for f in dataclass_fields(ListParams)}
        return AuditParams(**values, date_from=raw.get("date_from"), date_to=raw.get("date_to"))


def parse_params(args) -> AuditParams:
    try:
        return AuditLogArgs().load(args)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from exc


def parse_params_for_page(args) -> tuple[AuditParams, str | None]:
    """For the HTML page: bad values fall back to the defaults, with a message to show."""
    try:
        return parse_params(args), None
    except ValidationFailed as exc:
        return parse_params({}), exc.message


def _entries(actor: Actor, params: AuditParams) -> Select:
    stmt = select(AuditEntry).options(joinedload(AuditEntry.actor))
    zone = ZoneInfo(actor.user.business.timezone)
    if params.date_from:
        stmt = stmt.where(AuditEntry.created_at >= _utc_midnight(params.date_from, zone))
    if params.date_to:
        stmt = stmt.where(AuditEntry.created_at < _utc_midnight(params.date_to + timedelta(days=1), zone))
    return stmt


def _utc_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def list_entries(actor: Actor, params: AuditParams):
    require(actor, "audit.view")
    return fetch_page(_entries(actor, params), AUDIT_LIST, params)


def all_entries(actor: Actor, params: AuditParams):
    require(actor, "audit.view")
    return iter_rows(_entries(actor, params), AUDIT_LIST, params)


def get_entry(actor: Actor, entry_id: int) -> AuditEntry:
    require(actor, "audit.view")
    # Tenancy scopes the select: another business's entry is not found, like a missing one.
    entry = db.session.scalar(select(AuditEntry).options(joinedload(AuditEntry.actor))
                              .where(AuditEntry.id == entry_id))
    if entry is None:
        raise NotFound()
    return entry


def actor_choices() -> list[User]:
    """People who can act (staff users, deleted ones too: their changes stay in the log)."""
    return list(db.session.scalars(select(User).where(User.is_cmmsn_agnt.is_(False))
                                   .order_by(User.first_name, User.last_name, User.id)))


# --- showing an entry --------------------------------------------------------------------

@dataclass
class Change:
    field: str
    label: str
    before: str | None
    after: str | None
    added: list[str]
    removed: list[str]
    secret: bool


def field_label(key: str) -> str:
    return FIELD_LABELS.get(key) or key.replace("_", " ").capitalize()


def _text(value) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def changes(entry: AuditEntry) -> list[Change]:
    """The entry's fields, each as readable before and after text (lists also as what
    was added and removed)."""
    before, after = entry.before or {}, entry.after or {}
    out = []
    for key in entry.changed_fields:
        old, new = before.get(key), after.get(key)
        lists = isinstance(old, list) or isinstance(new, list)
        added = sorted(set(new or []) - set(old or [])) if lists else []
        removed = sorted(set(old or []) - set(new or [])) if lists else []
        out.append(Change(key, field_label(key), _text(old), _text(new), added, removed,
                          REDACTED in (old, new)))
    return out


def local_time(moment: datetime | None, zone_name: str) -> datetime | None:
    return as_utc(moment).astimezone(ZoneInfo(zone_name)) if moment else None
