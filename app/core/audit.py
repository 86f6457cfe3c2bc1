"""The audit log: who changed what, when, from where, with the fields before and after.

Models opt in with the `Audited` mixin and `__audited__ = ("field", ...)`; a session
`after_flush` hook then records every create, update and delete of them from attribute
history, so services record nothing by hand. Collections (a role's permissions) are
recorded as the sorted labels of their members; secrets (`__audit_secrets__`, and any
field whose name looks like one) only as "changed", never their value.

The actor comes from the request (`remember_actor()`, called when the browser session or
the API credential is resolved); outside a request (jobs, CLI) it is the system. Entries
of one transaction about one record are merged into one entry, so a service that flushes
twice still leaves one "updated" line. Entries are never updated or deleted by the app.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from flask import has_request_context, request
from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, event, insert, inspect, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, get_history

from app.core.models import isoformat, utcnow
from app.core.permissions import register_permissions
from app.core.tenancy import TenantMixin, current_business_id
from app.extensions import db

register_permissions("Audit log", {"audit.view": "See the audit log"})

ACTIONS = ("created", "updated", "deleted")
SYSTEM = "system"  # credential kind of changes made by jobs and the CLI
BROWSER = "browser"
REDACTED = "[redacted]"
# A field named like this is never recorded with its value, declared secret or not.
SECRET_NAME = re.compile(r"password|secret|token|nonce|hash|api_key", re.IGNORECASE)
_ACTOR_KEY = "trellis.audit_actor"
_ROWS_KEY = "trellis_audit_rows"  # (class, id) -> the entry already written this transaction

# entity type -> label shown in filters, filled by the Audited models as they are defined
ENTITY_TYPES: dict[str, str] = {}


class AuditEntry(TenantMixin, db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_business_id_created_at", "business_id", "created_at"),
        Index("ix_audit_entries_business_id_entity_type_entity_id", "business_id", "entity_type", "entity_id"),
        # Leading with actor_id, it also serves the ON DELETE SET NULL of a deleted user.
        Index("ix_audit_entries_actor_id_created_at", "actor_id", "created_at"),
        Index("ix_audit_entries_business_id_action", "business_id", "action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    # The user as they were named then; the row survives the user (SET NULL).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str | None] = mapped_column(String(255))
    credential: Mapped[str] = mapped_column(String(20), default=SYSTEM)  # browser, token, api_key, ..., system
    ip_address: Mapped[str | None] = mapped_column(String(45))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(Integer)
    entity_label: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(10))
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User", lazy="raise", foreign_keys=[actor_id])

    @property
    def changed_fields(self) -> list[str]:
        """In the order the model lists them (JSON keeps the order they were written in)."""
        return list(dict.fromkeys([*(self.after or {}), *(self.before or {})]))


class Audited:
    """Opt in to the audit log.

    `__audited__`: the fields recorded (columns or relationships; a collection is
    recorded as its members' labels). `__audit_secrets__`: fields recorded as changed,
    never with their value, under the given name ({"password_hash": "password"}).
    `__audit_references__`: foreign keys recorded as the label of the row they point at,
    under the relationship's name ({"role_id": "role"}).
    `__audit_soft_delete__`: a column whose going from empty to set is a deletion.
    """

    __audited__: tuple[str, ...] = ()
    __audit_entity__: str = ""
    __audit_entity_label__: str = ""
    __audit_secrets__: dict[str, str] = {}
    __audit_references__: dict[str, str] = {}
    __audit_soft_delete__: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__audit_entity__:
            ENTITY_TYPES.setdefault(cls.__audit_entity__,
                                    cls.__audit_entity_label__ or cls.__audit_entity__.replace("_", " ").capitalize())

    def audit_entity_type(self) -> str:
        return self.__audit_entity__

    def audit_label(self) -> str | None:
        return getattr(self, "name", None)

    def audit_value(self, key: str, value):
        """How a field's (JSON-safe) value is recorded; models override to make it readable."""
        return value


def register_entity_type(name: str, label: str) -> None:
    """An entity type a model records besides its `__audit_entity__` (e.g. agents)."""
    ENTITY_TYPES.setdefault(name, label)


# --- who is acting ---------------------------------------------------------------------

@dataclass(frozen=True)
class AuditActor:
    user_id: int | None
    name: str | None
    credential: str


def remember_actor(user, credential: str) -> None:
    """Called once the request's user is known: `credential` is "browser" or the API
    credential's kind ("token", "api_key", ...). Kept on the request, not on `g`: an app
    context can outlive one request."""
    request.environ[_ACTOR_KEY] = AuditActor(user.id, user.full_name, credential)


def _current_actor() -> tuple[AuditActor, str | None]:
    if not has_request_context():
        return AuditActor(None, None, SYSTEM), None
    # A request with no one signed in (sign-up, password reset) is still a browser.
    actor = request.environ.get(_ACTOR_KEY) or AuditActor(None, None, BROWSER)
    return actor, (request.remote_addr or None)


# --- recording -------------------------------------------------------------------------

def _plain(value):
    """A JSON-safe value."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _row_id(obj):
    # Not inspect(obj).identity: in after_flush new rows have their id but no identity yet.
    return inspect(type(obj)).primary_key_from_instance(obj)[0]


def _item_label(item) -> str:
    label = item.audit_label() if isinstance(item, Audited) else getattr(item, "name", None)
    return str(label) if label is not None else f"#{_row_id(item)}"


def _reference_label(session, obj, relation: str, value):
    if value is None:
        return None
    target = inspect(type(obj)).relationships[relation].mapper.class_
    row = session.get(target, value)
    return _item_label(row) if row is not None else f"#{value}"


def _secret_name(cls, key: str) -> str | None:
    if key in cls.__audit_secrets__:
        return cls.__audit_secrets__[key]
    return key if SECRET_NAME.search(key) else None


def _is_collection(cls, key: str) -> bool:
    rel = inspect(cls).relationships.get(key)
    return rel is not None and rel.uselist


def _snapshot(session, obj) -> dict:
    """The audited fields' current values (those that are set), for "created"/"deleted"."""
    cls, state = type(obj), inspect(obj)
    out = {}
    for key in cls.__audited__:
        if key not in state.dict:
            continue
        value = state.dict[key]
        if _is_collection(cls, key):
            value = sorted(_item_label(item) for item in value or [])
            if value:
                out[key] = value
            continue
        if value is None:
            continue
        secret = _secret_name(cls, key)
        if secret:
            out[secret] = REDACTED
        elif key in cls.__audit_references__:
            out[cls.__audit_references__[key]] = _reference_label(session, obj, cls.__audit_references__[key], value)
        else:
            out[key] = obj.audit_value(key, _plain(value))
    return out


def _changes(session, obj) -> tuple[dict, dict]:
    """(before, after) of the audited fields that changed in this flush."""
    cls = type(obj)
    before, after = {}, {}
    for key in cls.__audited__:
        history = get_history(obj, key, passive=PASSIVE_NO_INITIALIZE)
        if not history.has_changes():
            continue
        if _is_collection(cls, key):
            old = sorted(_item_label(i) for i in [*(history.unchanged or ()), *(history.deleted or ())])
            new = sorted(_item_label(i) for i in [*(history.unchanged or ()), *(history.added or ())])
        else:
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
        if old == new:
            continue
        secret = _secret_name(cls, key)
        if secret:
            before[secret], after[secret] = (REDACTED if old is not None else None), (
                REDACTED if new is not None else None)
        elif key in cls.__audit_references__:
            name = cls.__audit_references__[key]
            before[name] = _reference_label(session, obj, name, old)
            after[name] = _reference_label(session, obj, name, new)
        else:
            before[key], after[key] = obj.audit_value(key, _plain(old)), obj.audit_value(key, _plain(new))
    return before, after


def _business_id(obj) -> int | None:
    if isinstance(obj, TenantMixin):
        return obj.business_id
    from app.team.models import Business  # the tenant itself: its own id

    if isinstance(obj, Business):
        return obj.id
    return current_business_id()


def _entry(session, obj, action: str) -> dict | None:
    cls = type(obj)
    if action == "updated":
        before, after = _changes(session, obj)
        if not before and not after:
            return None
        soft = cls.__audit_soft_delete__
        if soft and soft in after and after[soft] is not None and before.get(soft) is None:
            action = "deleted"
    elif action == "created":
        before, after = {}, _snapshot(session, obj)
    else:
        before, after = _snapshot(session, obj), {}
    business_id = _business_id(obj)
    if business_id is None:
        return None
    label = obj.audit_label()
    return {
        "business_id": business_id, "entity_type": obj.audit_entity_type(), "entity_id": _row_id(obj),
        "entity_label": str(label)[:255] if label is not None else None, "action": action,
        "before": before, "after": after,
    }


def _merge(previous: dict, entry: dict) -> dict:
    """Two entries of one transaction about one record as one (a deletion stays its own)."""
    after = {**previous["after"], **entry["after"]}
    if previous["action"] == "created":
        return {**entry, "action": "created", "before": {}, "after": {k: v for k, v in after.items() if v is not None}}
    before = {**entry["before"], **previous["before"]}  # the first value before wins
    same = {k for k in before if k in after and before[k] == after[k]}
    return {**entry, "action": previous["action"],
            "before": {k: v for k, v in before.items() if k not in same},
            "after": {k: v for k, v in after.items() if k not in same}}


def _record(session, flush_context) -> None:
    found = [(obj, "created") for obj in session.new] + [(obj, "updated") for obj in session.dirty] + [
        (obj, "deleted") for obj in session.deleted]
    entries = []
    for obj, action in found:
        if isinstance(obj, Audited) and type(obj).__audited__:
            entry = _entry(session, obj, action)
            if entry is not None:
                entries.append(((type(obj), entry["entity_id"]), entry))
    if not entries:
        return
    actor, ip = _current_actor()
    who = {"actor_id": actor.user_id, "actor_name": actor.name, "credential": actor.credential,
           "ip_address": ip, "created_at": utcnow()}
    written = session.info.setdefault(_ROWS_KEY, {})
    connection = session.connection()
    table = AuditEntry.__table__
    for key, entry in entries:
        previous = written.get(key)
        if previous is not None and "deleted" not in (previous["action"], entry["action"]):
            merged = _merge(previous, entry)
            done = connection.execute(update(table).where(table.c.id == previous["id"]).values(
                action=merged["action"], before=merged["before"], after=merged["after"],
                entity_label=merged["entity_label"], entity_type=merged["entity_type"])).rowcount
            if done:
                written[key] = {**merged, "id": previous["id"]}
                continue
        row_id = connection.execute(insert(table).values(**entry, **who)).inserted_primary_key[0]
        written[key] = {**entry, "id": row_id}


def _refuse_changes_to_entries(session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("Audit entries are never changed or deleted.")


def _forget_written(session, *args) -> None:
    session.info.pop(_ROWS_KEY, None)


def _keep_old_values(mapper, cls) -> None:
    """Load a field's old value when it is set, so its "before" is known even when it
    was not loaded (e.g. expired after a flush)."""
    if not issubclass(cls, Audited):
        return
    for key in cls.__audited__:
        if key in mapper.column_attrs:
            event.listen(getattr(cls, key), "set", _ignore, active_history=True)


def _ignore(target, value, oldvalue, initiator):
    return value


def install_audit_hooks() -> None:
    if not event.contains(Session, "after_flush", _record):
        event.listen(Session, "after_flush", _record)
        event.listen(Session, "before_flush", _refuse_changes_to_entries)
        event.listen(Session, "after_commit", _forget_written)
        event.listen(Session, "after_rollback", _forget_written)
        event.listen(Session, "after_soft_rollback", _forget_written)


event.listen(Audited, "mapper_configured", _keep_old_values, propagate=True)
