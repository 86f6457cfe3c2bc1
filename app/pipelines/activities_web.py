"""Screens: the activity timeline fragment of a record, My tasks, and search results.

The timeline is a fragment the detail pages of contacts, accounts, leads and deals load
with htmx (`<div id="timeline" hx-get="/pipelines/timeline/<kind>/<id>" ...>`); opened
without htmx it is a page of its own, so the quick-add form also works without JS.
"""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from app.core.errors import ValidationFailed
from app.core.htmx import is_htmx, render_page
from app.core.models import as_utc
from app.core.web import browser_actor
from app.extensions import db
from app.pipelines import activities as services
from app.pipelines import search as search_service
from app.pipelines.models import ACTIVITY_TYPES

bp = Blueprint("activities", __name__, url_prefix="/pipelines")
QUICK_ADD_TYPES = ("note", "call", "task", "meeting")
TYPE_LABELS = {"call": "Call", "meeting": "Meeting", "task": "Task", "note": "Note", "event": "Event"}


def business_zone() -> ZoneInfo:
    try:
        return ZoneInfo(current_user.business.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def record_url(kind: str | None, record_id: int | None) -> str | None:
    """The detail page of the record an activity belongs to: /pipelines/contacts/5."""
    return f"/pipelines/{kind}s/{record_id}" if kind and record_id else None


@bp.app_template_filter("local_time")
def local_time(value: datetime | None, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    value = as_utc(value)
    return value.astimezone(business_zone()).strftime(fmt) if value else ""


@bp.app_template_filter("is_past")
def is_past(value: datetime | None) -> bool:
    value = as_utc(value)
    return bool(value and value < datetime.now(UTC))


@bp.app_template_filter("relative_time")
def relative_time(value: datetime | None, now: datetime | None = None) -> str:
    """"3 hours ago", "in 2 days", "just now"."""
    value = as_utc(value)
    if value is None:
        return ""
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "just now" if not future else "in a moment"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {words}" if future else f"{words} ago"
    return ""


def _parse_local(value: str | None) -> datetime | None:
    """A datetime-local input ("2026-11-23T09:30", or a bare date) in the business's zone, as UTC."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({"due_at": ["The due at must be a date and time."]}) from None
    if len(value) == 10:  # a date alone: the end of that working day
        moment = datetime.combine(moment.date(), time(17, 0))
    return moment.replace(tzinfo=business_zone()).astimezone(UTC)


# --- the timeline fragment -------------------------------------------------------------------

def _timeline_context(kind: str, record_id: int, form=None, errors=None):
    actor = browser_actor()
    record, items = services.timeline_for(actor, kind, record_id)
    return {"kind": kind, "record": record, "record_id": record_id, "items": items,
            "form": form or {"type": "note"}, "errors": errors or {}, "quick_add_types": QUICK_ADD_TYPES,
            "type_labels": TYPE_LABELS, "record_name": services.record_name(kind, record),
            "record_url": record_url(kind, record_id)}


@bp.route("/timeline/<kind>/<id:record_id>")
@login_required
def timeline(kind: str, record_id: int):
    context = _timeline_context(kind, record_id)
    return render_page("pipelines/timeline.html", block="timeline", **context)


@bp.route("/timeline/<kind>/<id:record_id>", methods=["POST"])
@login_required
def quick_add(kind: str, record_id: int):
    actor = browser_actor()
    services.find_record(actor, kind, record_id)  # 404 before anything else
    form = {k: request.form.get(k, "") for k in ("type", "subject", "notes", "due_at")}
    try:
        activity = services.create_activity(actor, {
            "type": form["type"] or "note", "subject": form["subject"], "notes": form["notes"],
            "due_at": _parse_local(form["due_at"]), "activityable_type": kind, "activityable_id": record_id,
        })
    except ValidationFailed as exc:
        db.session.rollback()
        return _quick_add_failed(kind, record_id, form, exc.errors)
    if not is_htmx():
        flash(f"{TYPE_LABELS[activity.type]} \u201c{activity.subject}\u201d added.", "success")
        return redirect(record_url(kind, record_id), code=303)
    # The new entry goes to the top of the list; the form comes back empty (out of band).
    item = {"kind": "activity", "at": activity.created_at, "activity": activity}
    context = {"item": item, "kind": kind, "record_id": record_id, "type_labels": TYPE_LABELS,
               "form": {"type": form["type"] or "note"}, "errors": {}, "quick_add_types": QUICK_ADD_TYPES,
               "oob": True}
    body = render_template("pipelines/_timeline_item.html", **context) + render_template(
        "pipelines/_quick_add.html", **context)
    return make_response(body, 201)


def _quick_add_failed(kind, record_id, form, errors):
    if is_htmx():
        body = render_template("pipelines/_quick_add.html", kind=kind, record_id=record_id, form=form,
                               errors=errors, quick_add_types=QUICK_ADD_TYPES, type_labels=TYPE_LABELS)
        response = make_response(body, 422)
        response.headers["HX-Retarget"] = "#quick-add"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    context = _timeline_context(kind, record_id, form=form, errors=errors)
    return render_page("pipelines/timeline.html", status=422, **context)


@bp.route("/activities/<id:activity_id>/complete", methods=["POST"])
@login_required
def complete(activity_id: int):
    """Tick (completed=1) or untick (completed=0) a task, from the timeline or My tasks."""
    actor = browser_actor()
    completed = request.form.get("completed", "1") != "0"
    activity = services.set_completed(actor, activity_id, completed)
    where = request.form.get("view", "timeline")
    if not is_htmx():
        back = url_for("activities.tasks") if where == "tasks" else record_url(
            activity.activityable_type, activity.activityable_id) or url_for("activities.tasks")
        return redirect(back, code=303)
    if where == "tasks":
        # The row changes in place (so "Undo" stays at hand); the overdue count and the
        # page title follow out of band.
        labels = services.record_labels([activity])
        overdue = len(services.my_open_tasks(actor, _start_of_today())["overdue"])
        body = render_template("pipelines/_task_row.html", task=activity, labels=labels, type_labels=TYPE_LABELS,
                               group=request.form.get("group", ""), record_url=record_url)
        body += render_template("pipelines/_overdue_badge.html", overdue=overdue, oob=True)
        body += "<title>" + render_template("pipelines/_tasks_title.html", overdue=overdue) + " · Trellis CRM</title>"
    else:
        body = render_template("pipelines/_timeline_item.html", type_labels=TYPE_LABELS,
                               item={"kind": "activity", "at": activity.created_at, "activity": activity})
    response = make_response(body)
    response.headers["HX-Trigger"] = '{"trellis:tasks-changed": true}'
    return response


# --- My tasks --------------------------------------------------------------------------------

def _start_of_today() -> datetime:
    zone = business_zone()
    return datetime.combine(datetime.now(zone).date(), time.min, tzinfo=zone).astimezone(UTC)


@bp.route("/tasks")
@login_required
def tasks():
    actor = browser_actor()
    type_ = request.args.get("type") or None
    if type_ and type_ not in ACTIVITY_TYPES:
        type_ = None
    start_of_today = _start_of_today()
    groups = services.my_open_tasks(actor, start_of_today, type_)
    labels = services.record_labels([t for group in groups.values() for t in group])
    return render_page("pipelines/tasks.html", block="tasks", groups=groups, labels=labels, type_=type_,
                       type_labels=TYPE_LABELS, record_url=record_url, section="tasks", fragment=is_htmx(),
                       today=start_of_today, week_end=start_of_today + timedelta(days=8))


# --- search ----------------------------------------------------------------------------------

SEARCH_LABELS = {"contacts": "Contacts", "leads": "Leads", "accounts": "Accounts", "deals": "Deals"}


def search_hit(kind: str, record) -> dict:
    """What a result shows: a title, a detail line, and its page."""
    if kind == "contacts":
        detail = " · ".join(x for x in (record.email, record.mobile_phone or record.work_phone or record.home_phone)
                            if x)
        return {"title": record.name or f"Contact #{record.id}", "detail": detail,
                "url": record_url("contact", record.id)}
    if kind == "leads":
        detail = " · ".join(x for x in (record.company_name, record.email, record.phone) if x)
        return {"title": record.name or f"Lead #{record.id}", "detail": detail, "url": record_url("lead", record.id)}
    if kind == "accounts":
        detail = " · ".join(x for x in (record.domain, record.phone) if x)
        return {"title": record.name, "detail": detail, "url": record_url("account", record.id)}
    return {"title": record.title, "detail": f"{record.currency} {record.value:,.2f} · {record.status}",
            "url": record_url("deal", record.id)}


@bp.route("/search")
@login_required
def search():
    actor = browser_actor()
    search_service.require_any_search(actor)
    q = (request.args.get("q") or "").strip()
    dropdown = request.args.get("dropdown") == "1"
    error = None
    results: dict[str, list] = {}
    if len(q) >= 2:
        limit = 5 if dropdown else 25
        found = search_service.global_search(actor, q[:200], limit_per_kind=limit)
        results = {kind: [search_hit(kind, r) for r in rows] for kind, rows in found.items() if rows}
    elif q:
        error = "Type at least 2 characters."
    context = {"q": q, "results": results, "error": error, "labels": SEARCH_LABELS}
    if dropdown:
        if not is_htmx():
            abort(404)
        return make_response(render_block("pipelines/search.html", "dropdown", **context))
    return render_page("pipelines/search.html", block="results", **context)
