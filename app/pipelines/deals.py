"""Deals: what they are worth, where they sit on the board, and how they move.

Positions are kept 0..n-1 per stage (a board column), in board order. A deal's status
follows the kind of its stage: entering a won stage wins it, a lost stage (with a
reason) loses it, and an open stage reopens it.
"""
import re
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from app.core.concurrency import check_version
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.events import record_event
from app.core.listing import Filter, ListParams, ListSpec, fetch_page, iter_rows, matching_ids
from app.core.models import utcnow
from app.core.money import AmountError, parse_money
from app.core.permissions import Actor, require
from app.extensions import db
from app.pipelines import pipelines as pipeline_rules
from app.pipelines.access import find_visible, visible
from app.pipelines.common import check_owner, clean_custom_fields, custom_field_definitions
from app.pipelines.models import DEAL_STATUSES, Account, Contact, Deal, Pipeline, Stage
from app.pipelines.search import search_for
from app.team.models import User

VIEW = ("deals.view", "deals.view_all")
MAX_ROW_ID = 2**31 - 1
MATCHING_MAX = 10_000  # deals one "all matching" bulk action may touch
CURRENCY = re.compile(r"[A-Z]{3}")
CUSTOM_FILTER = re.compile(r"custom_fields\[(\w+)\]")


def is_row_id(value) -> bool:
    """An id a row could have (a bigger number would overflow the database's integer)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ROW_ID


def deal_options():
    """What a deal shows wherever it is shown: owner, stage, contact, account."""
    return (joinedload(Deal.owner), joinedload(Deal.stage), joinedload(Deal.contact), joinedload(Deal.account))


DEAL_LIST = ListSpec(
    name="Deal",
    export_permission="crm.export",
    sorts={"title": Deal.title, "value": Deal.value, "created_at": Deal.created_at, "updated_at": Deal.updated_at,
           "expected_close_date": Deal.expected_close_date, "closed_at": Deal.closed_at,
           "position": Deal.position},
    default_sort="-created_at",  # newest first; any other sort ascends unless told
    default_direction="asc",
    search=(Deal.title,),
    search_with=search_for("deals"),  # full-text (FTS5 / tsvector), not LIKE '%q%'
    filters={
        "status": Filter(Deal.status, choices=DEAL_STATUSES),
        "owner_id": Filter(Deal.owner_id, kind="int"),
        "owner": Filter(Deal.owner_id, kind="int", description="Seed 003 alias of owner_id."),
        "assign": Filter(Deal.owner_id, kind="int", description="Seed 003 alias of owner_id."),
        "pipeline_id": Filter(Deal.pipeline_id, kind="int"),
        "stage_id": Filter(Deal.stage_id, kind="int"),
        "contact_id": Filter(Deal.contact_id, kind="int"),
        "account_id": Filter(Deal.account_id, kind="int"),
        "commission_agent_id": Filter(Deal.commission_agent_id, kind="int"),
    },
)


# --------------------------------------------------------------------------- reads


def _visible_deals(actor: Actor, custom: dict | None = None, owned: bool = False):
    stmt = visible(select(Deal), Deal, actor, "deals").options(*deal_options())
    if owned:  # seed 003's owned=1: only the caller's own deals
        stmt = stmt.where(Deal.owner_id == actor.user.id)
    return _custom_filtered(stmt, custom)


def custom_filters_from(args) -> dict:
    """`cf[key]=value` (as on the other lists), `filter[cf.key]=value`, or
    `custom_fields[<key>]=value` query parameters, as {key: value}."""
    from app.pipelines.contacts import cf_filters_from

    out = cf_filters_from(args)
    for name, value in args.items():
        match = CUSTOM_FILTER.fullmatch(name)
        if match and str(value).strip():
            out[match.group(1)] = str(value).strip()
    return out


def _custom_filtered(stmt, custom: dict | None):
    if not custom:
        return stmt
    known = {f.key: f for f in custom_field_definitions("deal")}
    errors = {f"custom_fields[{key}]": [f"There is no deal field named {key}."] for key in custom if key not in known}
    if errors:
        raise ValidationFailed(errors)
    for key, value in custom.items():
        field = known[key]
        if field.type == "checkbox":
            wanted = value.lower() in {"1", "true", "yes", "on"}
            stmt = stmt.where(Deal.custom_fields[key].as_boolean() == wanted)
        elif field.type == "number":
            try:
                stmt = stmt.where(Deal.custom_fields[key].as_float() == float(value))
            except ValueError:
                raise ValidationFailed({f"custom_fields[{key}]": [f"The {field.label} must be a number."]}) from None
        else:
            stmt = stmt.where(Deal.custom_fields[key].as_string() == value)
    return stmt


def list_deals(actor: Actor, params: ListParams, custom: dict | None = None, owned: bool = False):
    require(actor, *VIEW)
    return fetch_page(_visible_deals(actor, custom, owned), DEAL_LIST, params)


def all_deals(actor: Actor, params: ListParams, custom: dict | None = None, owned: bool = False):
    require(actor, *VIEW)
    return iter_rows(_visible_deals(actor, custom, owned), DEAL_LIST, params)


def get_deal(actor: Actor, deal_id: int) -> Deal:
    require(actor, *VIEW)
    return find_visible(Deal, deal_id, actor, "deals", options=deal_options())


def deals_by_ids(actor: Actor, deal_ids: list[int]) -> list[Deal]:
    """The deals among `deal_ids` the actor may see, newest first."""
    require(actor, *VIEW)
    deal_ids = [i for i in deal_ids if is_row_id(i)]
    stmt = _visible_deals(actor).where(Deal.id.in_(deal_ids or [0])).order_by(Deal.created_at.desc(), Deal.id.desc())
    return list(db.session.scalars(stmt).unique())


def matching_deal_ids(actor: Actor, params: ListParams) -> list[int]:
    """Every deal the list shows for `params`, all pages ("select all N matching")."""
    require(actor, *VIEW)
    return matching_ids(_visible_deals(actor), DEAL_LIST, params, MATCHING_MAX)


def find_visible_deal(actor: Actor, deal_id: int) -> Deal:
    require(actor, *VIEW)
    return find_visible(Deal, deal_id, actor, "deals")


def position_after(deal: Deal, stage: Stage, after_id: int | None) -> int:
    """The position that puts `deal` right below the card `after_id` of `stage` (none: top).

    The board says where a card was dropped by its neighbour, as the column on screen
    may be filtered or only partly loaded.
    """
    after = (db.session.scalar(select(Deal).where(Deal.id == after_id, Deal.stage_id == stage.id))
             if is_row_id(after_id) else None)
    if after is None:
        return 0
    if after.id == deal.id:
        return deal.position
    if deal.stage_id == stage.id and deal.position < after.position:
        return after.position  # the deal leaves a gap above: the neighbour moves up by one
    return after.position + 1


def _reloaded(actor: Actor, deal: Deal) -> Deal:
    """The deal as written, with what it shows loaded afresh (ids may have changed)."""
    # Not through visible(): a user may hand a deal to someone else and still be answered.
    db.session.expire(deal)
    return db.session.scalars(select(Deal).where(Deal.id == deal.id).options(*deal_options())).one()


def owners() -> list[User]:
    """Staff who can own deals, for pickers and the owner filter."""
    stmt = (select(User).where(User.deleted_at.is_(None), User.is_cmmsn_agnt.is_(False))
            .order_by(User.first_name, User.last_name, User.id))
    return list(db.session.scalars(stmt))


def commission_agents() -> list[User]:
    stmt = (select(User).where(User.deleted_at.is_(None), User.is_cmmsn_agnt.is_(True))
            .order_by(User.first_name, User.last_name, User.id))
    return list(db.session.scalars(stmt))


# --------------------------------------------------------------------------- validation


def _parse_date(raw):
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValueError("The expected close date must be a date (YYYY-MM-DD).") from None


def _visible_or_error(model, record_id, actor: Actor, kind: str, field: str, errors: dict):
    if record_id in (None, ""):
        return None
    try:
        if not is_row_id(record_id):
            raise NotFound()
        return find_visible(model, record_id, actor, kind)
    except NotFound:
        errors[field] = [f"The selected {field.replace('_', ' ')} is invalid."]
        return None


def _check_agent(agent_id, errors: dict) -> None:
    if agent_id in (None, ""):
        return
    agent = db.session.scalar(
        select(User).where(User.id == agent_id, User.deleted_at.is_(None), User.is_cmmsn_agnt.is_(True))
    ) if is_row_id(agent_id) else None
    if agent is None:
        errors["commission_agent_id"] = ["The selected commission agent id is not a commission agent of this business."]


def _placement(data: dict, deal: Deal | None, errors: dict) -> tuple[Pipeline | None, Stage | None]:
    """The pipeline and stage `data` asks for (defaults: the default pipeline, its first stage)."""
    pipeline = None
    if data.get("pipeline_id") not in (None, ""):
        pipeline = db.session.get(Pipeline, data["pipeline_id"]) if is_row_id(data["pipeline_id"]) else None
        if pipeline is None:
            errors["pipeline_id"] = ["The selected pipeline id is invalid."]
            return None, None
    stage = None
    if data.get("stage_id") not in (None, ""):
        stage = db.session.get(Stage, data["stage_id"]) if is_row_id(data["stage_id"]) else None
        if stage is None:
            errors["stage_id"] = ["The selected stage id is invalid."]
            return None, None
    if pipeline is None:
        if stage is not None:
            pipeline = db.session.get(Pipeline, stage.pipeline_id)
        elif deal is not None:
            return None, None  # nothing about placement was sent
        else:
            pipeline = pipeline_rules.default_pipeline()
    if stage is None:
        if deal is not None and deal.pipeline_id == pipeline.id:
            return None, None
        stage = next((s for s in pipeline.stages if s.kind == "open"), None) or (
            pipeline.stages[0] if pipeline.stages else None)
        if stage is None:
            errors["stage_id"] = ["The pipeline has no stages yet."]
    elif stage.pipeline_id != pipeline.id:
        errors["stage_id"] = ["The stage must belong to the pipeline."]
    return pipeline, stage


def _clean(actor: Actor, data: dict, deal: Deal | None) -> dict:
    """The deal fields `data` sends, checked; errors for all of them at once."""
    errors: dict = {}
    values: dict = {}
    if deal is None or "title" in data:
        title = (data.get("title") or "").strip() if isinstance(data.get("title"), str) else data.get("title")
        if not title:
            errors["title"] = ["The title field is required."]
        elif len(title) > 200:
            errors["title"] = ["The title may not be greater than 200 characters."]
        values["title"] = title
    if "currency" in data or deal is None:
        currency = (data.get("currency") or "").strip().upper() if isinstance(data.get("currency"), str | None) else "?"
        currency = currency or actor.user.business.currency
        if not CURRENCY.fullmatch(currency):
            errors["currency"] = ["The currency must be a three-letter ISO 4217 code, e.g. GBP."]
        values["currency"] = currency
    if "value" in data or deal is None:
        currency = values.get("currency") or deal.currency
        try:
            value = parse_money(data.get("value"), actor.user.business.decimal_separator,
                                currency=currency if "currency" not in errors else None)
        except AmountError as exc:
            errors["value"] = [str(exc)]
        else:
            values["value"] = Decimal("0.00") if value is None else value
    for key, model, kind in (("contact_id", Contact, "contacts"), ("account_id", Account, "accounts")):
        if key in data:
            _visible_or_error(model, data[key], actor, kind, key, errors)
            values[key] = data[key] or None
    if "owner_id" in data:
        if data["owner_id"] not in (None, "") and not is_row_id(data["owner_id"]):
            errors["owner_id"] = ["The selected owner id is invalid."]
        else:
            check_owner(data["owner_id"], errors)
        values["owner_id"] = data["owner_id"] or None
    elif deal is None:
        values["owner_id"] = actor.user.id
    if "commission_agent_id" in data:
        _check_agent(data["commission_agent_id"], errors)
        values["commission_agent_id"] = data["commission_agent_id"] or None
    if "expected_close_date" in data:
        try:
            values["expected_close_date"] = _parse_date(data["expected_close_date"])
        except ValueError as exc:
            errors["expected_close_date"] = [str(exc)]
    if "lost_reason" in data:
        reason = data.get("lost_reason")
        reason = reason.strip() if isinstance(reason, str) else reason
        if reason and len(reason) > 500:
            errors["lost_reason"] = ["The lost reason may not be greater than 500 characters."]
        values["lost_reason"] = reason or None
    if "custom_fields" in data or deal is None:
        try:
            values["custom_fields"] = clean_custom_fields("deal", data.get("custom_fields"),
                                                          deal.custom_fields if deal else None)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    pipeline, stage = _placement(data, deal, errors)
    if stage is not None:
        values["_stage"] = stage
    if errors:
        raise ValidationFailed(errors)
    return values


# --------------------------------------------------------------------------- writes


def _lock_columns(*stage_ids) -> None:
    """Serialise writers of these columns (PostgreSQL row locks, in id order against
    deadlocks; SQLite has one writer anyway), so two moves never share a position."""
    ids = sorted({i for i in stage_ids if i})
    db.session.execute(select(Stage.id).where(Stage.id.in_(ids)).order_by(Stage.id).with_for_update())


def _column_size(stage_id: int, excluding: int | None = None) -> int:
    stmt = select(func.count()).select_from(Deal).where(Deal.stage_id == stage_id)
    if excluding is not None:
        stmt = stmt.where(Deal.id != excluding)
    return db.session.scalar(stmt) or 0


def _shift(stage_id: int, start: int, end: int | None, by: int, excluding: int | None = None) -> None:
    """Positions start..end (inclusive; end None: to the end) of a column move by `by`.

    A bulk UPDATE: a position is bookkeeping, not an edit, so it leaves versions alone.
    """
    stmt = update(Deal).where(Deal.stage_id == stage_id, Deal.position >= start)
    if end is not None:
        stmt = stmt.where(Deal.position <= end)
    if excluding is not None:
        stmt = stmt.where(Deal.id != excluding)
    db.session.execute(stmt.values(position=Deal.position + by), execution_options={"synchronize_session": "fetch"})


def _enter_status(deal: Deal, stage: Stage, lost_reason: str | None) -> str | None:
    """Set the status the stage's kind implies; returns the event it causes, if any."""
    before = deal.status
    if stage.kind == "won":
        deal.status, deal.lost_reason = "won", None
        if before != "won":
            deal.closed_at = utcnow()
            return "deal.won"
    elif stage.kind == "lost":
        deal.status, deal.lost_reason = "lost", lost_reason or deal.lost_reason
        if before != "lost":
            deal.closed_at = utcnow()
            return "deal.lost"
    else:
        deal.status, deal.closed_at, deal.lost_reason = "open", None, None
    return None


def _payload(deal: Deal, **extra) -> dict:
    return {"id": deal.id, "title": deal.title, "value": f"{deal.value:.2f}", "currency": deal.currency,
            "pipeline_id": deal.pipeline_id, "stage_id": deal.stage_id, "status": deal.status,
            "owner_id": deal.owner_id, "contact_id": deal.contact_id, **extra}


def create_deal(actor: Actor, data: dict) -> Deal:
    """A deal on top of its column. Created in a won/lost stage, it is won/lost at once."""
    require(actor, "deals.create")
    values = _clean(actor, data, None)
    stage = values.pop("_stage")
    if stage.kind == "lost" and not values.get("lost_reason"):
        raise ValidationFailed({"lost_reason": ["A reason is required to mark a deal as lost."]})
    _lock_columns(stage.id)
    _shift(stage.id, 0, None, +1)
    deal = Deal(**values, pipeline_id=stage.pipeline_id, stage_id=stage.id, position=0,
                stage_entered_at=utcnow(), status="open")
    closing_event = _enter_status(deal, stage, values.get("lost_reason"))
    db.session.add(deal)
    db.session.flush()
    record_event("deal.created", _payload(deal))
    if closing_event:
        record_event(closing_event, _payload(deal, lost_reason=deal.lost_reason))
    return _reloaded(actor, deal)


def update_deal(actor: Actor, deal_id: int, data: dict, expected_version: int | None = None) -> Deal:
    """Change fields; a new stage or pipeline moves the deal to the top of that column."""
    require(actor, "deals.update")
    deal = find_visible(Deal, deal_id, actor, "deals", options=deal_options())
    check_version(deal, expected_version)
    values = _clean(actor, data, deal)
    stage = values.pop("_stage", None)
    reason_sent = "lost_reason" in values
    lost_reason = values.pop("lost_reason", None)
    for key, value in values.items():
        setattr(deal, key, value)
    moving = stage is not None and stage.id != deal.stage_id
    if reason_sent and not moving and deal.status == "lost":
        if not lost_reason:
            raise ValidationFailed({"lost_reason": ["A lost deal needs a reason."]})
        deal.lost_reason = lost_reason
    db.session.flush()
    if moving:
        return move_deal_to_stage(deal, stage, 0, actor, lost_reason=lost_reason)
    record_event("deal.updated", _payload(deal))
    return _reloaded(actor, deal)


def delete_deal(actor: Actor, deal_id: int, expected_version: int | None = None) -> None:
    require(actor, "deals.delete")
    deal = find_visible(Deal, deal_id, actor, "deals")
    check_version(deal, expected_version)
    _lock_columns(deal.stage_id)
    db.session.refresh(deal, ["stage_id", "position"])
    stage_id, position = deal.stage_id, deal.position
    db.session.delete(deal)
    db.session.flush()
    _shift(stage_id, position + 1, None, -1)
    record_event("deal.deleted", {"id": deal_id, "stage_id": stage_id})


def delete_deals(actor: Actor, deal_ids: list[int]) -> int:
    """Bulk delete of the deals the actor can see among `deal_ids`; returns how many."""
    require(actor, "deals.delete")
    count = 0
    for deal_id in deal_ids:
        try:
            delete_deal(actor, deal_id)
        except NotFound:
            continue
        count += 1
    return count


def assign_deals(actor: Actor, deal_ids: list[int], owner_id: int | None) -> int:
    """Bulk "assign owner" of the visible deals among `deal_ids`; returns how many."""
    require(actor, "deals.update")
    errors: dict = {}
    if owner_id is not None and not is_row_id(owner_id):
        errors["owner_id"] = ["The selected owner id is invalid."]
    check_owner(owner_id if not errors else None, errors)
    if errors:
        raise ValidationFailed(errors)
    deal_ids = [i for i in deal_ids if is_row_id(i)]
    stmt = visible(select(Deal), Deal, actor, "deals").where(Deal.id.in_(deal_ids or [0]))
    deals = list(db.session.scalars(stmt))
    for deal in deals:
        deal.owner_id = owner_id
    db.session.flush()
    for deal in deals:
        record_event("deal.updated", _payload(deal))
    return len(deals)


def find_stage(stage_id, field: str = "stage_id") -> Stage:
    """A stage of this business, or a 422 on `field`."""
    stage = db.session.get(Stage, stage_id) if is_row_id(stage_id) else None
    if stage is None:
        raise ValidationFailed({field: [f"The selected {field.replace('_', ' ')} is invalid."]})
    return stage


def move_deal_to_stage(deal: Deal, stage: Stage, position: int | None, actor: Actor,
                       lost_reason: str | None = None, expected_version: int | None = None) -> Deal:
    """Put `deal` at `position` (0 = top; None = top) of `stage`'s column.

    Both columns keep positions 0..n-1. Entering a won stage wins the deal, a lost one
    needs `lost_reason`, an open one reopens it. A stage of another pipeline moves the
    deal to that pipeline.
    """
    require(actor, "deals.update")
    _lock_columns(deal.stage_id, stage.id)
    db.session.refresh(deal, ["stage_id", "position", "version", "status", "lost_reason"])
    check_version(deal, expected_version)
    lost_reason = lost_reason.strip() if isinstance(lost_reason, str) else None
    if lost_reason and len(lost_reason) > 500:
        raise ValidationFailed({"lost_reason": ["The lost reason may not be greater than 500 characters."]})
    if stage.kind == "lost" and not lost_reason and not (deal.status == "lost" and deal.lost_reason):
        raise ValidationFailed({"lost_reason": ["A reason is required to mark a deal as lost."]})
    old_stage_id, old_position = deal.stage_id, deal.position
    size = _column_size(stage.id, excluding=deal.id)
    position = 0 if position is None else max(0, min(int(position), size))
    if stage.id == old_stage_id:
        if position > old_position:
            _shift(stage.id, old_position + 1, position, -1, excluding=deal.id)
        elif position < old_position:
            _shift(stage.id, position, old_position - 1, +1, excluding=deal.id)
    else:
        _shift(old_stage_id, old_position + 1, None, -1, excluding=deal.id)
        _shift(stage.id, position, None, +1, excluding=deal.id)
        deal.stage_id, deal.pipeline_id = stage.id, stage.pipeline_id
        deal.stage_entered_at = utcnow()
    deal.position = position
    closing_event = _enter_status(deal, stage, lost_reason)
    if stage.kind == "lost" and lost_reason:
        deal.lost_reason = lost_reason
    db.session.flush()
    if stage.id != old_stage_id:
        record_event("deal.stage_changed", _payload(deal, from_stage_id=old_stage_id, to_stage_id=stage.id))
    if closing_event:
        record_event(closing_event, _payload(deal, lost_reason=deal.lost_reason))
    return _reloaded(actor, deal)


def move_deal(actor: Actor, deal_id: int, stage_id, position=None, lost_reason=None,
              expected_version: int | None = None) -> Deal:
    """move_deal_to_stage by ids, as the API and the board call it."""
    require(actor, "deals.update")
    deal = find_visible(Deal, deal_id, actor, "deals")
    if position is not None and (isinstance(position, bool) or not isinstance(position, int)
                                 or not 0 <= position <= MAX_ROW_ID):
        raise ValidationFailed({"position": ["The position must be a whole number, 0 or more."]})
    return move_deal_to_stage(deal, find_stage(stage_id), position, actor, lost_reason, expected_version)


def _closing_stage(deal: Deal, kind: str) -> Stage:
    stage = db.session.scalar(select(Stage).where(Stage.pipeline_id == deal.pipeline_id, Stage.kind == kind)
                              .order_by(Stage.position).limit(1))
    if stage is None:
        raise Conflict(f"This pipeline has no {kind} stage. Add one under Settings \u2192 Pipelines & stages.")
    return stage


def mark_won(actor: Actor, deal_id: int, expected_version: int | None = None) -> Deal:
    require(actor, "deals.update")
    deal = find_visible(Deal, deal_id, actor, "deals")
    return move_deal_to_stage(deal, _closing_stage(deal, "won"), 0, actor, expected_version=expected_version)


def mark_lost(actor: Actor, deal_id: int, lost_reason: str | None, expected_version: int | None = None) -> Deal:
    require(actor, "deals.update")
    deal = find_visible(Deal, deal_id, actor, "deals")
    return move_deal_to_stage(deal, _closing_stage(deal, "lost"), 0, actor, lost_reason=lost_reason or None,
                              expected_version=expected_version)


def reopen_deal(actor: Actor, deal_id: int, stage_id, position=None, expected_version: int | None = None,
                stage_entered_at: datetime | None = None) -> Deal:
    """Undo a won/lost: the deal goes back, open, to `stage_id` at `position` (where it
    was before it closed; the board's Undo sends both, and when it entered that stage, so
    a rotting deal stays marked). The stage must be an open stage of the deal's pipeline;
    a deal that is open already is a 409."""
    require(actor, "deals.update")
    deal = find_visible(Deal, deal_id, actor, "deals")
    if deal.status == "open":
        raise Conflict("This deal is open already.")
    stage = find_stage(stage_id)
    if stage.kind != "open" or stage.pipeline_id != deal.pipeline_id:
        raise ValidationFailed({"stage_id": ["The selected stage id is invalid."]})
    was = deal.status
    deal = move_deal_to_stage(deal, stage, position, actor, expected_version=expected_version)
    if _plausible_entry(deal, stage_entered_at):
        deal.stage_entered_at = stage_entered_at
    record_event("deal.reopened", _payload(deal, was=was))
    return deal


def _plausible_entry(deal: Deal, entered: datetime | None) -> bool:
    """A stage-entry time an Undo may restore: a real moment (with its zone), not yet to come."""
    return entered is not None and entered.tzinfo is not None and entered <= utcnow()


# --------------------------------------------------------------------------- the board


BOARD_PAGE = 30


def board_totals(actor: Actor, pipeline: Pipeline, owner_id: int | None = None) -> dict[int, tuple[int, Decimal]]:
    """{stage_id: (count, total value)} of the deals the actor sees, in one query."""
    require(actor, *VIEW)
    stmt = visible(select(Deal.stage_id, func.count(Deal.id), func.coalesce(func.sum(Deal.value), 0)),
                   Deal, actor, "deals").where(Deal.pipeline_id == pipeline.id).group_by(Deal.stage_id)
    if owner_id:
        stmt = stmt.where(Deal.owner_id == owner_id)
    return {stage_id: (count, Decimal(str(total)).quantize(Decimal("0.01")))
            for stage_id, count, total in db.session.execute(stmt).all()}


def open_summary(pipeline: Pipeline, totals: dict[int, tuple[int, Decimal]]) -> tuple[int, Decimal, Decimal]:
    """(count, value, probability-weighted value) of the open stages, from board_totals."""
    none = (0, Decimal("0"))
    open_stages = [s for s in pipeline.stages if s.kind == "open"]
    count = sum(totals.get(s.id, none)[0] for s in open_stages)
    value = sum((totals.get(s.id, none)[1] for s in open_stages), Decimal("0"))
    weighted = sum((totals.get(s.id, none)[1] * s.probability / 100 for s in open_stages), Decimal("0"))
    return count, value, weighted


def stage_totals(actor: Actor, stage_ids, owner_id: int | None = None) -> dict[int, tuple[int, Decimal]]:
    stmt = visible(select(Deal.stage_id, func.count(Deal.id), func.coalesce(func.sum(Deal.value), 0)),
                   Deal, actor, "deals").where(Deal.stage_id.in_(list(stage_ids))).group_by(Deal.stage_id)
    if owner_id:
        stmt = stmt.where(Deal.owner_id == owner_id)
    found = {stage_id: (count, Decimal(str(total)).quantize(Decimal("0.01")))
             for stage_id, count, total in db.session.execute(stmt).all()}
    return {stage_id: found.get(stage_id, (0, Decimal("0.00"))) for stage_id in stage_ids}


def board_cards(actor: Actor, pipeline: Pipeline, owner_id: int | None = None,
                limit: int = BOARD_PAGE) -> dict[int, list[Deal]]:
    """The top `limit` cards of every column, in one query (a window per stage)."""
    require(actor, *VIEW)
    ranked = visible(
        select(Deal.id, func.row_number().over(partition_by=Deal.stage_id,
                                               order_by=(Deal.position, Deal.id)).label("rank")),
        Deal, actor, "deals").where(Deal.pipeline_id == pipeline.id)
    if owner_id:
        ranked = ranked.where(Deal.owner_id == owner_id)
    ranked = ranked.subquery()
    top = select(ranked.c.id).where(ranked.c.rank <= limit)
    stmt = (select(Deal).where(Deal.id.in_(top)).options(joinedload(Deal.owner), joinedload(Deal.contact))
            .order_by(Deal.stage_id, Deal.position, Deal.id))
    columns: dict[int, list[Deal]] = {stage.id: [] for stage in pipeline.stages}
    for deal in db.session.scalars(stmt).unique():
        columns.setdefault(deal.stage_id, []).append(deal)
    return columns


def column_cards(actor: Actor, stage: Stage, after_position: int, owner_id: int | None = None,
                 limit: int = BOARD_PAGE) -> list[Deal]:
    """The next cards of one column, after the card at `after_position` (scrolling)."""
    require(actor, *VIEW)
    stmt = (visible(select(Deal), Deal, actor, "deals")
            .where(Deal.stage_id == stage.id, Deal.position > after_position)
            .options(joinedload(Deal.owner), joinedload(Deal.contact))
            .order_by(Deal.position, Deal.id).limit(limit))
    if owner_id:
        stmt = stmt.where(Deal.owner_id == owner_id)
    return list(db.session.scalars(stmt).unique())


def open_pipeline_value(actor: Actor) -> tuple[int, Decimal] | None:
    """(count, value) of the open deals the actor sees, for the dashboard; None without access."""
    if not actor or not actor.can_any(*VIEW):
        return None
    stmt = visible(select(func.count(Deal.id), func.coalesce(func.sum(Deal.value), 0)), Deal, actor, "deals")
    count, total = db.session.execute(stmt.where(Deal.status == "open")).one()
    return count, Decimal(str(total)).quantize(Decimal("0.01"))
