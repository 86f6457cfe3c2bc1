"""Activities (calls, meetings, tasks, notes, events) on contacts, accounts, leads and deals.

Who sees an activity: its owner; everyone with `activities.view_all`; and anyone who can
see the record it belongs to (a colleague's call on a contact you own shows on your
contact's timeline). Writes by id go through the same rule, so an activity you cannot
see is a 404 for any write too.
"""
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.orm import selectinload

from app.core.audit import AuditEntry
from app.core.concurrency import check_version
from app.core.errors import NotFound, ValidationFailed
from app.core.events import OutboxEvent, record_event
from app.core.listing import Filter, ListParams, ListSpec, fetch_page, iter_rows
from app.core.models import as_utc, isoformat, utcnow
from app.core.permissions import Actor, require
from app.core.tenancy import current_business_id
from app.extensions import db
from app.pipelines import access
from app.pipelines.common import check_owner
from app.pipelines.models import ACTIVITY_TYPES, ENTITY_KINDS, Account, Activity, Contact, Deal, Lead

# activityable_type -> (model, the permission/access kind of that model)
RECORD_KINDS = {
    "contact": (Contact, "contacts"),
    "account": (Account, "accounts"),
    "lead": (Lead, "leads"),
    "deal": (Deal, "deals"),
}
NOTIFY_CHOICES = (0, 24)  # seed 003: never, or 24 hours before
FIELDS = ("type", "subject", "notes", "due_at", "starts_at", "ends_at", "notify", "completed", "owner_id",
          "activityable_type", "activityable_id")

ACTIVITY_LIST = ListSpec(
    name="Activity",
    export_permission="crm.export",
    sorts={"created_at": Activity.created_at, "due_at": Activity.due_at, "starts_at": Activity.starts_at,
           "subject": Activity.subject, "type": Activity.type},
    default_sort="created_at",
    default_direction="desc",
    search=(Activity.subject, Activity.notes),
    filters={
        "activityable_type": Filter(Activity.activityable_type, choices=ENTITY_KINDS,
                                    description="The kind of record the activity belongs to."),
        "activityable_id": Filter(Activity.activityable_id, kind="int",
                                  description="The id of the record it belongs to (with activityable_type)."),
        "owner_id": Filter(Activity.owner_id, kind="int"),
        "type": Filter(Activity.type, choices=ACTIVITY_TYPES),
        "completed": Filter(Activity.completed, kind="bool", description="1/0 or true/false."),
    },
)


# --- who sees what -------------------------------------------------------------------

def visible_activities(stmt: Select, actor: Actor) -> Select:
    """`stmt` (a select of Activity) narrowed to the activities the actor may see."""
    if actor.can("activities.view_all"):
        return stmt
    seen_through_record = [
        and_(Activity.activityable_type == kind,
             Activity.activityable_id.in_(access.visible(select(model.id), model, actor, plural)))
        for kind, (model, plural) in RECORD_KINDS.items()
        if actor.can(f"{plural}.view") or actor.can(f"{plural}.view_all")
    ]
    return stmt.where(or_(Activity.owner_id == actor.user.id, *seen_through_record))


def find_activity(actor: Actor, activity_id: int) -> Activity:
    stmt = visible_activities(select(Activity).where(Activity.id == activity_id), actor)
    activity = db.session.scalar(stmt.options(selectinload(Activity.owner)))
    if activity is None:
        raise NotFound()
    return activity


def find_record(actor: Actor, kind: str, record_id: int):
    """The contact/account/lead/deal an activity belongs to, if the actor may see it (else 404)."""
    if kind not in RECORD_KINDS:
        raise NotFound()
    model, plural = RECORD_KINDS[kind]
    if not actor.can_any(f"{plural}.view", f"{plural}.view_all"):
        raise NotFound()
    return access.find_visible(model, record_id, actor, plural)


# --- reads ---------------------------------------------------------------------------

def _list_stmt(actor: Actor, params: ListParams) -> Select:
    require(actor, "activities.view")
    return visible_activities(select(Activity), actor).options(selectinload(Activity.owner))


def list_activities(actor: Actor, params: ListParams, due_before=None, due_after=None):
    stmt = _list_stmt(actor, params)
    return fetch_page(_due_window(stmt, due_before, due_after), ACTIVITY_LIST, params)


def all_activities(actor: Actor, params: ListParams, due_before=None, due_after=None):
    stmt = _list_stmt(actor, params)
    return iter_rows(_due_window(stmt, due_before, due_after), ACTIVITY_LIST, params)


def _due_window(stmt: Select, before, after) -> Select:
    if before is not None:
        stmt = stmt.where(Activity.due_at < before)
    if after is not None:
        stmt = stmt.where(Activity.due_at >= after)
    return stmt


def get_activity(actor: Actor, activity_id: int) -> Activity:
    require(actor, "activities.view")
    return find_activity(actor, activity_id)


# --- writes --------------------------------------------------------------------------

def _clean(actor: Actor, data: dict, activity: Activity | None) -> dict:
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items() if k in FIELDS}
    values = {k: (None if v == "" else v) for k, v in values.items()}
    merged = {k: getattr(activity, k) for k in FIELDS} if activity is not None else {}
    merged.update(values)
    errors: dict[str, list[str]] = {}

    if "type" in values or activity is None:
        merged["type"] = merged.get("type") or "note"
        if merged["type"] not in ACTIVITY_TYPES:
            errors["type"] = ["The selected type is invalid."]
    if (activity is None or "subject" in values) and not merged.get("subject"):
        errors["subject"] = ["The subject field is required."]
    elif isinstance(merged.get("subject"), str) and len(merged["subject"]) > 200:
        errors["subject"] = ["The subject may not be greater than 200 characters."]
    if isinstance(merged.get("notes"), str) and len(merged["notes"]) > 10000:
        errors["notes"] = ["The notes may not be greater than 10000 characters."]
    if merged.get("notify") is None:
        merged["notify"] = 0
    if merged["notify"] not in NOTIFY_CHOICES:
        errors["notify"] = ["The notify must be 0 (never) or 24 (hours before)."]
    starts, ends = as_utc(merged.get("starts_at")), as_utc(merged.get("ends_at"))
    if starts and ends and ends < starts:
        errors["ends_at"] = ["The ends at must be a date after or equal to starts at."]
    if "owner_id" in values:
        check_owner(values["owner_id"], errors)
    _check_record(actor, merged, values, activity, errors)

    if errors:
        raise ValidationFailed(errors)
    if activity is None and merged.get("owner_id") is None:
        merged["owner_id"] = actor.user.id
    merged["completed"] = bool(merged.get("completed"))
    return merged


def _check_record(actor, merged, values, activity, errors) -> None:
    kind, record_id = merged.get("activityable_type"), merged.get("activityable_id")
    if activity is not None and "activityable_type" not in values and "activityable_id" not in values:
        return  # unchanged
    if kind is None and record_id is None:
        return
    if kind not in RECORD_KINDS:
        errors["activityable_type"] = (["The activityable type field is required when activityable id is present."]
                                       if kind is None else ["The selected activityable type is invalid."])
        return
    if record_id is None:
        errors["activityable_id"] = ["The activityable id field is required when activityable type is present."]
        return
    try:
        find_record(actor, kind, record_id)
    except NotFound:
        errors["activityable_id"] = ["The selected activityable id is invalid."]


def _apply(activity: Activity, values: dict) -> None:
    was_completed = bool(activity.completed)
    for key in FIELDS:
        if key in values:
            setattr(activity, key, values[key])
    if activity.completed and not was_completed:
        activity.completed_at = utcnow()
    elif not activity.completed:
        activity.completed_at = None


def create_activity(actor: Actor, data: dict) -> Activity:
    require(actor, "activities.create")
    activity = Activity()
    _apply(activity, _clean(actor, data, None))
    db.session.add(activity)
    db.session.flush()
    record_event("activity.created", event_payload(activity))
    return _reloaded(activity)


def update_activity(actor: Actor, activity_id: int, data: dict, expected_version: int | None = None) -> Activity:
    require(actor, "activities.update")
    activity = find_activity(actor, activity_id)
    check_version(activity, expected_version)
    _apply(activity, _clean(actor, data, activity))
    db.session.flush()
    return _reloaded(activity)


def set_completed(actor: Actor, activity_id: int, completed: bool) -> Activity:
    """Tick (or untick) a task: completed_at is set, or cleared."""
    return update_activity(actor, activity_id, {"completed": completed})


def delete_activity(actor: Actor, activity_id: int, expected_version: int | None = None) -> None:
    require(actor, "activities.delete")
    activity = find_activity(actor, activity_id)
    check_version(activity, expected_version)
    db.session.delete(activity)
    db.session.flush()


def _reloaded(activity: Activity) -> Activity:
    """The activity with its owner loaded (relationships are lazy="raise")."""
    db.session.refresh(activity, attribute_names=["owner"])
    return activity


def event_payload(activity: Activity) -> dict:
    return {"id": activity.id, "type": activity.type, "subject": activity.subject,
            "activityable_type": activity.activityable_type, "activityable_id": activity.activityable_id,
            "owner_id": activity.owner_id, "due_at": isoformat(activity.due_at)}


# --- the timeline of one record --------------------------------------------------------

# Outbox events that describe a change of one record, by kind: payload["id"] is the record.
CHANGE_EVENTS = {
    "contact": ("contact.created", "contact.updated"),
    "account": ("account.created", "account.updated"),
    "lead": ("lead.created", "lead.updated", "lead.converted"),
    "deal": ("deal.created", "deal.updated", "deal.stage_changed", "deal.won", "deal.lost", "deal.reopened"),
}
TIMELINE_LIMIT = 100


def timeline_for(actor: Actor, kind: str, record_id: int) -> tuple[object, list[dict]]:
    """(the record, its timeline newest first): activities and recorded changes.

    Activities need `activities.view`; without it the timeline shows the changes only.
    Changes come from the audit log (entries of this record, when its model is audited)
    and from the outbox (events whose payload id is this record), newest `TIMELINE_LIMIT`
    of each. The outbox is read by JSON payload id within the business's events, with no
    index on that id: fine for a small business, worth an index if outboxes grow large.
    """
    record = find_record(actor, kind, record_id)
    items = []
    if actor.can("activities.view"):
        stmt = (select(Activity)
                .where(Activity.activityable_type == kind, Activity.activityable_id == record_id)
                .options(selectinload(Activity.owner))
                .order_by(Activity.created_at.desc(), Activity.id.desc())
                .limit(TIMELINE_LIMIT))
        items += [{"kind": "activity", "at": as_utc(a.created_at), "activity": a} for a in db.session.scalars(stmt)]
    audited = record_audit_entries(kind, record_id)
    items += [{"kind": "change", "at": as_utc(e.created_at), "text": describe_audit(e), "who": e.actor_name}
              for e in audited]
    # The audit log (when the record's model is audited) already tells of creates and
    # updates, and says who; the outbox adds what it does not (stage moves, won, converted).
    skip = {f"{kind}.created", f"{kind}.updated"} if audited else set()
    items += [{"kind": "change", "at": as_utc(e.created_at), "text": describe_change(e), "who": None}
              for e in record_changes(kind, record_id) if e.name not in skip]
    items.sort(key=lambda item: item["at"], reverse=True)
    return record, items


def record_audit_entries(kind: str, record_id: int) -> list[AuditEntry]:
    """The record's audit entries (index business_id, entity_type, entity_id), newest first."""
    stmt = (select(AuditEntry)
            .where(AuditEntry.entity_type == kind, AuditEntry.entity_id == record_id)
            .order_by(AuditEntry.id.desc())
            .limit(TIMELINE_LIMIT))
    return list(db.session.scalars(stmt))


def describe_audit(entry: AuditEntry) -> str:
    if entry.action == "created":
        return f"{entry.entity_type.capitalize()} created"
    if entry.action == "deleted":
        return f"{entry.entity_type.capitalize()} deleted"
    fields = entry.changed_fields
    if not fields:
        return "Details updated"
    more = f" and {len(fields) - 6} more" if len(fields) > 6 else ""
    return "Changed " + ", ".join(f.replace("_", " ") for f in fields[:6]) + more


def record_changes(kind: str, record_id: int) -> list[OutboxEvent]:
    # The outbox is not tenant-scoped (its dispatcher reads across businesses), so the
    # business is named here explicitly.
    stmt = (select(OutboxEvent)
            .where(OutboxEvent.business_id == current_business_id(),
                   OutboxEvent.name.in_(CHANGE_EVENTS[kind]),
                   OutboxEvent.payload["id"].as_integer() == record_id)
            .order_by(OutboxEvent.id.desc())
            .limit(TIMELINE_LIMIT))
    return list(db.session.scalars(stmt))


def describe_change(event: OutboxEvent) -> str:
    """A sentence for a change event, using what its payload happens to carry."""
    payload = event.payload or {}
    noun, _, verb = event.name.partition(".")
    if verb == "created":
        return f"{noun.capitalize()} created"
    if verb == "stage_changed":
        before = payload.get("from_stage_name") or payload.get("from_stage")
        after = payload.get("to_stage_name") or payload.get("stage_name") or payload.get("to_stage")
        if isinstance(before, str) and isinstance(after, str):
            return f"Moved from {before} to {after}"
        return f"Moved to {after}" if isinstance(after, str) else "Moved to another stage"
    if verb == "won":
        return "Deal won"
    if verb == "lost":
        reason = payload.get("lost_reason")
        return f"Deal lost: {reason}" if isinstance(reason, str) and reason else "Deal lost"
    if verb == "converted":
        return "Lead converted"
    if verb == "reopened":
        return "Deal reopened"
    changed = payload.get("changes") or payload.get("changed") or payload.get("fields")
    if isinstance(changed, dict):
        changed = list(changed)
    if isinstance(changed, list) and changed and all(isinstance(c, str) for c in changed):
        return "Changed " + ", ".join(c.replace("_", " ") for c in changed[:6])
    return "Details updated"


# --- My tasks ------------------------------------------------------------------------

def my_open_tasks(actor: Actor, start_of_today: datetime, type_: str | None = None) -> dict[str, list[Activity]]:
    """The actor's open activities with a due time: overdue, due today, the next 7 days."""
    require(actor, "activities.view")
    due = func.coalesce(Activity.due_at, Activity.starts_at)
    tomorrow = start_of_today + timedelta(days=1)
    week_end = start_of_today + timedelta(days=8)
    stmt = (select(Activity)
            .where(Activity.owner_id == actor.user.id, Activity.completed.is_(False),
                   due.is_not(None), due < week_end)
            .options(selectinload(Activity.owner))
            .order_by(due, Activity.id))
    if type_:
        stmt = stmt.where(Activity.type == type_) if type_ in ACTIVITY_TYPES else stmt.where(false())
    groups: dict[str, list[Activity]] = {"overdue": [], "today": [], "upcoming": []}
    for activity in db.session.scalars(stmt):
        when = as_utc(activity.due_at or activity.starts_at)
        key = "overdue" if when < start_of_today else "today" if when < tomorrow else "upcoming"
        groups[key].append(activity)
    return groups


def record_labels(activities) -> dict[tuple[str, int], str]:
    """{(kind, id): name} of the records these activities belong to (one query per kind)."""
    wanted: dict[str, set[int]] = {}
    for activity in activities:
        if activity.activityable_type in RECORD_KINDS and activity.activityable_id:
            wanted.setdefault(activity.activityable_type, set()).add(activity.activityable_id)
    labels = {}
    for kind, ids in wanted.items():
        model = RECORD_KINDS[kind][0]
        for record in db.session.scalars(select(model).where(model.id.in_(ids))):
            labels[(kind, record.id)] = record_name(kind, record)
    return labels


def record_name(kind: str, record) -> str:
    if kind == "deal":
        return record.title
    return record.name or f"{kind.capitalize()} #{record.id}"
