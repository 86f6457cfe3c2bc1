"""Pipelines and their stages: the columns of the deal board.

Every business has one default pipeline; a new business gets "Sales" with the usual
stages, and a business that predates this gets it the first time its pipelines are read.
Stage positions are kept 0..n-1 in board order.
"""
from sqlalchemy import func, select, update

from app.core.concurrency import check_version
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.events import record_event
from app.core.listing import ListParams, ListSpec, fetch_page, iter_rows
from app.core.models import utcnow
from app.core.permissions import Actor, require
from app.core.sqlite import write_from_here
from app.extensions import db
from app.pipelines.models import STAGE_KINDS, Deal, Pipeline, Stage

DEFAULT_PIPELINE_NAME = "Sales"
DEFAULT_STAGES = (
    # name, probability %, kind, rotting after N days
    ("Qualified", 10, "open", 14),
    ("Contact made", 20, "open", 14),
    ("Proposal", 50, "open", 21),
    ("Negotiation", 80, "open", 14),
    ("Won", 100, "won", None),
    ("Lost", 0, "lost", None),
)
READ_PERMISSIONS = ("deals.view", "deals.view_all", "pipelines.manage")
STAGE_FIELDS = ("name", "probability", "kind", "rotting_days")
PIPELINE_LIST = ListSpec(
    name="Pipeline",
    sorts={"position": Pipeline.position, "name": Pipeline.name, "created_at": Pipeline.created_at},
    default_sort="position",
    search=(Pipeline.name,),
)


# --------------------------------------------------------------------------- defaults


def create_default_pipeline() -> Pipeline:
    """The "Sales" pipeline with its stages, as the current business's default."""
    pipeline = Pipeline(name=DEFAULT_PIPELINE_NAME, is_default=True, position=0)
    pipeline.stages = [
        Stage(name=name, probability=probability, kind=kind, rotting_days=rotting, position=n)
        for n, (name, probability, kind, rotting) in enumerate(DEFAULT_STAGES)
    ]
    db.session.add(pipeline)
    db.session.flush()
    return pipeline


def ensure_default_pipeline() -> None:
    """A business created before pipelines existed gets its default on first use."""
    if db.session.scalar(select(func.count()).select_from(Pipeline)):
        return
    write_from_here()  # often a page view: write in a transaction that holds the lock
    if not db.session.scalar(select(func.count()).select_from(Pipeline)):
        create_default_pipeline()


# --------------------------------------------------------------------------- reads


def list_pipelines(actor: Actor) -> list[Pipeline]:
    """Every pipeline of the business, default first, each with its stages in order."""
    require(actor, *READ_PERMISSIONS)
    ensure_default_pipeline()
    stmt = select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.position, Pipeline.id)
    return list(db.session.scalars(stmt))


def list_pipelines_page(actor: Actor, params: ListParams):
    require(actor, *READ_PERMISSIONS)
    ensure_default_pipeline()
    return fetch_page(select(Pipeline), PIPELINE_LIST, params)


def all_pipelines(actor: Actor, params: ListParams):
    """Every pipeline, read as the CSV streams (after the request's commit)."""
    require(actor, *READ_PERMISSIONS)
    ensure_default_pipeline()
    return iter_rows(select(Pipeline), PIPELINE_LIST, params)


def get_stage(actor: Actor, pipeline_id: int, stage_id: int) -> Stage:
    require(actor, *READ_PERMISSIONS)
    return _find_stage(_find_pipeline(pipeline_id), stage_id)


def get_pipeline(actor: Actor, pipeline_id: int) -> Pipeline:
    require(actor, *READ_PERMISSIONS)
    return _find_pipeline(pipeline_id)


def default_pipeline() -> Pipeline:
    ensure_default_pipeline()
    stmt = select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.position, Pipeline.id).limit(1)
    return db.session.scalars(stmt).one()


def _find_pipeline(pipeline_id: int) -> Pipeline:
    pipeline = db.session.get(Pipeline, pipeline_id)
    if pipeline is None:
        raise NotFound()
    return pipeline


def _find_stage(pipeline: Pipeline, stage_id: int) -> Stage:
    for stage in pipeline.stages:
        if stage.id == stage_id:
            return stage
    raise NotFound()


def deal_counts(stage_ids) -> dict[int, int]:
    """Deals per stage (every deal, whoever owns it: it decides what may be deleted)."""
    stage_ids = list(stage_ids)
    if not stage_ids:
        return {}
    stmt = select(Deal.stage_id, func.count()).where(Deal.stage_id.in_(stage_ids)).group_by(Deal.stage_id)
    return dict(db.session.execute(stmt).all())


# --------------------------------------------------------------------------- pipelines


def _clean_name(data: dict, errors: dict, required: bool) -> str | None:
    name = data.get("name")
    name = name.strip() if isinstance(name, str) else name
    if required or "name" in data:
        if not name:
            errors["name"] = ["The name field is required."]
        elif len(name) > 120:
            errors["name"] = ["The name may not be greater than 120 characters."]
    return name


def create_pipeline(actor: Actor, data: dict) -> Pipeline:
    """A new pipeline. Without `stages` it gets the default ones, so its board works at once."""
    require(actor, "pipelines.manage")
    ensure_default_pipeline()
    errors: dict = {}
    name = _clean_name(data, errors, required=True)
    stages = data.get("stages")
    cleaned_stages = []
    if stages:
        for n, stage_data in enumerate(stages):
            try:
                cleaned_stages.append(_clean_stage(stage_data, None))
            except ValidationFailed as exc:
                errors.update({f"stages.{n}.{key}": messages for key, messages in exc.errors.items()})
    if errors:
        raise ValidationFailed(errors)
    last = db.session.scalar(select(func.max(Pipeline.position))) or 0
    pipeline = Pipeline(name=name, position=last + 1, is_default=False)
    if cleaned_stages:
        pipeline.stages = [Stage(position=n, **values) for n, values in enumerate(cleaned_stages)]
    else:
        pipeline.stages = [
            Stage(name=s_name, probability=probability, kind=kind, rotting_days=rotting, position=n)
            for n, (s_name, probability, kind, rotting) in enumerate(DEFAULT_STAGES)
        ]
    db.session.add(pipeline)
    db.session.flush()
    if data.get("is_default"):
        _make_default(pipeline)
    record_event("pipeline.created", {"id": pipeline.id, "name": pipeline.name})
    return pipeline


def _make_default(pipeline: Pipeline) -> None:
    db.session.execute(update(Pipeline).where(Pipeline.id != pipeline.id, Pipeline.is_default.is_(True))
                       .values(is_default=False, version=Pipeline.version + 1))
    pipeline.is_default = True
    db.session.flush()


def update_pipeline(actor: Actor, pipeline_id: int, data: dict, expected_version: int | None = None) -> Pipeline:
    require(actor, "pipelines.manage")
    pipeline = _find_pipeline(pipeline_id)
    check_version(pipeline, expected_version)
    errors: dict = {}
    name = _clean_name(data, errors, required=False)
    if data.get("is_default") is False and pipeline.is_default:
        errors["is_default"] = ["Make another pipeline the default instead: a business always has one."]
    if errors:
        raise ValidationFailed(errors)
    if "name" in data:
        pipeline.name = name
    if data.get("is_default") and not pipeline.is_default:
        _make_default(pipeline)
    db.session.flush()
    record_event("pipeline.updated", {"id": pipeline.id, "name": pipeline.name})
    return pipeline


def delete_pipeline(actor: Actor, pipeline_id: int, expected_version: int | None = None) -> None:
    require(actor, "pipelines.manage")
    pipeline = _find_pipeline(pipeline_id)
    check_version(pipeline, expected_version)
    if pipeline.is_default:
        raise Conflict("The default pipeline cannot be deleted. Make another pipeline the default first.")
    holding = db.session.scalar(select(func.count()).select_from(Deal).where(Deal.pipeline_id == pipeline.id))
    if holding:
        raise Conflict(f"The pipeline \u201c{pipeline.name}\u201d holds {_deals(holding)}."
                       " Move or delete them first.")
    db.session.delete(pipeline)
    db.session.flush()
    record_event("pipeline.deleted", {"id": pipeline_id})


def _deals(count: int) -> str:
    return f"{count} deal{'s' if count != 1 else ''}"


# --------------------------------------------------------------------------- stages


def _clean_stage(data: dict, stage: Stage | None) -> dict:
    """The stage fields sent, checked; for a new stage name is required."""
    values = {k: data[k] for k in STAGE_FIELDS if k in data}
    errors: dict = {}
    name = _clean_name(values, errors, required=stage is None)
    if "name" in values or stage is None:
        values["name"] = name
    if values.get("probability") is not None:
        probability = values["probability"]
        if isinstance(probability, bool) or not isinstance(probability, int) or not 0 <= probability <= 100:
            errors["probability"] = ["The probability must be a whole number between 0 and 100."]
    elif "probability" in values or stage is None:
        values["probability"] = 0
    if "kind" in values or stage is None:
        values["kind"] = values.get("kind") or "open"
        if values["kind"] not in STAGE_KINDS:
            errors["kind"] = ["The kind must be one of: open, won, lost."]
    rotting = values.get("rotting_days")
    if rotting is not None and (isinstance(rotting, bool) or not isinstance(rotting, int)
                                or not 1 <= rotting <= 3650):
        errors["rotting_days"] = ["The rotting days must be a whole number between 1 and 3650, or empty."]
    if errors:
        raise ValidationFailed(errors)
    return values


def create_stage(actor: Actor, pipeline_id: int, data: dict) -> Stage:
    """A stage at `position` (0 = first column), or after the last one."""
    require(actor, "pipelines.manage")
    pipeline = _find_pipeline(pipeline_id)
    values = _clean_stage(data, None)
    count = len(pipeline.stages)
    position = data.get("position")
    position = count if not isinstance(position, int) else max(0, min(position, count))
    stage = Stage(pipeline_id=pipeline.id, position=count, **values)
    db.session.add(stage)
    db.session.flush()
    db.session.expire(pipeline, ["stages"])
    if position != count:
        _place_stage(pipeline, stage, position)
    record_event("stage.created", {"id": stage.id, "pipeline_id": pipeline.id, "name": stage.name})
    return stage


def update_stage(actor: Actor, pipeline_id: int, stage_id: int, data: dict,
                 expected_version: int | None = None) -> Stage:
    require(actor, "pipelines.manage")
    pipeline = _find_pipeline(pipeline_id)
    stage = _find_stage(pipeline, stage_id)
    check_version(stage, expected_version)
    values = _clean_stage(data, stage)
    for key, value in values.items():
        setattr(stage, key, value)
    if isinstance(data.get("position"), int):
        _place_stage(pipeline, stage, data["position"])
    db.session.flush()
    record_event("stage.updated", {"id": stage.id, "pipeline_id": pipeline.id, "name": stage.name})
    return stage


def _place_stage(pipeline: Pipeline, stage: Stage, position: int) -> None:
    ordered = [s for s in pipeline.stages if s.id != stage.id]
    position = max(0, min(position, len(ordered)))
    ordered.insert(position, stage)
    _renumber(ordered)


def _renumber(stages: list[Stage]) -> None:
    for n, stage in enumerate(stages):
        if stage.position != n:
            stage.position = n
    db.session.flush()


def reorder_stages(actor: Actor, pipeline_id: int, stage_ids: list) -> Pipeline:
    """Put the pipeline's stages in the order of `stage_ids` (every stage, once each)."""
    require(actor, "pipelines.manage")
    pipeline = _find_pipeline(pipeline_id)
    by_id = {stage.id: stage for stage in pipeline.stages}
    if not isinstance(stage_ids, list) or sorted(stage_ids) != sorted(by_id) or len(set(stage_ids)) != len(stage_ids):
        raise ValidationFailed({"stage_ids": ["The stage ids must list every stage of this pipeline once."]})
    _renumber([by_id[i] for i in stage_ids])
    db.session.expire(pipeline, ["stages"])
    record_event("pipeline.stages_reordered", {"id": pipeline.id, "stage_ids": stage_ids})
    return pipeline


def delete_stage(actor: Actor, pipeline_id: int, stage_id: int, move_deals_to: int | None = None,
                 expected_version: int | None = None) -> None:
    """Delete a stage. Its deals, if any, go to the stage `move_deals_to` of the same
    pipeline (after the deals already there); without one, a stage holding deals stays."""
    require(actor, "pipelines.manage")
    pipeline = _find_pipeline(pipeline_id)
    stage = _find_stage(pipeline, stage_id)
    check_version(stage, expected_version)
    if len(pipeline.stages) == 1:
        raise Conflict("A pipeline needs at least one stage: this is the last one.")
    holding = deal_counts([stage.id]).get(stage.id, 0)
    if holding:
        if move_deals_to in (None, ""):
            raise Conflict(f"The stage \u201c{stage.name}\u201d holds {_deals(holding)}."
                           " Choose a stage to move them to, then delete it.",
                           {"move_deals_to": ["Choose the stage that takes its deals."]})
        target = next((s for s in pipeline.stages if s.id == move_deals_to and s.id != stage.id), None)
        if target is None:
            raise ValidationFailed({"move_deals_to": ["Choose another stage of the same pipeline."]})
        _move_all_deals(stage, target)
    remaining = [s for s in pipeline.stages if s.id != stage.id]
    db.session.delete(stage)
    db.session.flush()
    _renumber(remaining)
    db.session.expire(pipeline, ["stages"])
    record_event("stage.deleted", {"id": stage_id, "pipeline_id": pipeline.id})


def _move_all_deals(source: Stage, target: Stage) -> None:
    """Every deal of `source` to the end of `target`, in order; status follows the target."""
    offset = db.session.scalar(select(func.count()).select_from(Deal).where(Deal.stage_id == target.id)) or 0
    now = utcnow()
    values = {"stage_id": target.id, "position": Deal.position + offset, "stage_entered_at": now,
              "version": Deal.version + 1}
    if target.kind == "open":
        values.update(status="open", closed_at=None, lost_reason=None)
    else:
        values.update(status=target.kind, closed_at=now)
    stmt = update(Deal).where(Deal.stage_id == source.id)
    if target.kind == "lost":
        stmt_reason = stmt.where(Deal.lost_reason.is_(None)).values(
            lost_reason=f"Stage \u201c{source.name}\u201d was removed")
        db.session.execute(stmt_reason, execution_options={"synchronize_session": False})
    db.session.execute(stmt.values(**values), execution_options={"synchronize_session": False})
    db.session.expire_all()
