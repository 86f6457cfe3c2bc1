"""/api/v1/pipelines: pipelines with their stages (the columns of the deal board)."""
from flask import url_for
from marshmallow import EXCLUDE, Schema, fields, post_load, validate

from app.api.base import Blueprint, current_actor, if_match_version, list_answer, object_answer
from app.api.schemas import ApiSchema, FormatArgs, UtcDateTime, envelope, length, list_envelope
from app.pipelines import pipelines as services
from app.pipelines.deals import MAX_ROW_ID
from app.pipelines.models import STAGE_KINDS

blp = Blueprint("api_pipelines", __name__, url_prefix="/pipelines",
                description="Sales pipelines and their stages. Every business has one default pipeline.")

PROBABILITY = validate.Range(min=0, max=100, error="The probability must be a whole number between 0 and 100.")
ROTTING = validate.Range(min=1, max=3650,
                         error="The rotting days must be a whole number between 1 and 3650, or empty.")


class StageSchema(Schema):
    id = fields.Integer(required=True)
    pipeline_id = fields.Integer(required=True)
    name = fields.String(required=True)
    position = fields.Integer(required=True, metadata={"description": "0 for the first column."})
    probability = fields.Integer(required=True, metadata={"description": "Percent, 0..100."})
    kind = fields.String(required=True, metadata={"enum": list(STAGE_KINDS),
                                                  "description": "won/lost stages close the deals entering them."})
    rotting_days = fields.Integer(allow_none=True, required=True,
                                  metadata={"description": "A deal older than this in the stage is rotting."})
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class PipelineSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    is_default = fields.Boolean(required=True)
    position = fields.Integer(required=True)
    stages = fields.List(fields.Nested(StageSchema), required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class StagePatchSchema(ApiSchema):
    name = fields.String(validate=length(120, minimum=1))
    probability = fields.Integer(strict=True, validate=PROBABILITY)
    kind = fields.String(validate=validate.OneOf(STAGE_KINDS, error="The kind must be one of: open, won, lost."))
    rotting_days = fields.Integer(strict=True, allow_none=True, validate=ROTTING)
    position = fields.Integer(strict=True, validate=validate.Range(min=0, max=1000),
                              metadata={"description": "Where the stage goes, 0 for first; others shift."})


class StageWriteSchema(StagePatchSchema):
    """POST and PUT: the whole stage. Left out: probability 0, kind open, no rotting."""

    name = fields.String(required=True, validate=length(120, minimum=1))

    @post_load
    def fill_left_out_fields(self, data, **kwargs):
        return {"probability": 0, "kind": "open", "rotting_days": None, **data}


class NewStageSchema(StageWriteSchema):
    class Meta:
        exclude = ("position",)


class PipelinePatchSchema(ApiSchema):
    name = fields.String(validate=length(120, minimum=1))
    is_default = fields.Boolean(metadata={"description": "true makes this the default (the other one stops being)."})


class PipelineWriteSchema(PipelinePatchSchema):
    name = fields.String(required=True, validate=length(120, minimum=1))


class NewPipelineSchema(PipelineWriteSchema):
    stages = fields.List(fields.Nested(NewStageSchema), validate=validate.Length(max=50),
                         metadata={"description": "The stages in order; left out: Qualified, Contact made,"
                                                  " Proposal, Negotiation, Won, Lost."})


class ReorderSchema(ApiSchema):
    stage_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ROW_ID)), required=True,
                            metadata={"description": "Every stage id of the pipeline, in the new order."})


class DeleteStageArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    move_deals_to = fields.Integer(validate=validate.Range(min=1, max=MAX_ROW_ID), metadata={"description": "A stage of the same pipeline that takes the deals"
                                                            " of the deleted one (required when it holds any)."})


# --------------------------------------------------------------------------- pipelines


@blp.get("")
@blp.arguments(services.PIPELINE_LIST.args_schema(), location="query", as_kwargs=False)
@blp.response(200, list_envelope(PipelineSchema))
@blp.forbidden_unless_permitted
def list_pipelines(params):
    """List pipelines with their stages, default first. Needs `deals.view`, `deals.view_all` or
    `pipelines.manage`."""
    actor = current_actor()
    return list_answer(params, PipelineSchema, lambda: services.list_pipelines_page(actor, params),
                       lambda: services.all_pipelines(actor, params), "pipelines")


@blp.post("")
@blp.idempotent
@blp.arguments(NewPipelineSchema)
@blp.response(201, envelope(PipelineSchema))
@blp.forbidden_unless_permitted
def create_pipeline(data):
    """Create a pipeline (with the default stages unless `stages` is sent). Needs `pipelines.manage`."""
    pipeline = services.create_pipeline(current_actor(), data)
    body, status, headers = object_answer(pipeline, PipelineSchema, status=201)
    return body, status, dict(headers, Location=url_for("api_pipelines.get_pipeline", pipeline_id=pipeline.id))


@blp.get("/<id:pipeline_id>")
@blp.arguments(FormatArgs, location="query")
@blp.response(200, envelope(PipelineSchema))
@blp.forbidden_unless_permitted
def get_pipeline(args, pipeline_id):
    """One pipeline with its stages."""
    pipeline = services.get_pipeline(current_actor(), pipeline_id)
    return object_answer(pipeline, PipelineSchema, args["format"], f"pipeline-{pipeline_id}")


@blp.put("/<id:pipeline_id>")
@blp.idempotent
@blp.arguments(PipelineWriteSchema)
@blp.response(200, envelope(PipelineSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def replace_pipeline(data, pipeline_id):
    """Rename a pipeline, or make it the default. Needs `pipelines.manage`."""
    return object_answer(services.update_pipeline(current_actor(), pipeline_id, data, if_match_version()),
                         PipelineSchema)


@blp.patch("/<id:pipeline_id>")
@blp.idempotent
@blp.arguments(PipelinePatchSchema)
@blp.response(200, envelope(PipelineSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def update_pipeline(data, pipeline_id):
    """Change some fields of a pipeline. Needs `pipelines.manage`."""
    return object_answer(services.update_pipeline(current_actor(), pipeline_id, data, if_match_version()),
                         PipelineSchema)


@blp.delete("/<id:pipeline_id>")
@blp.response(204)
@blp.alt_response(409, response="CONFLICT")
@blp.forbidden_unless_permitted
@blp.versioned
def delete_pipeline(pipeline_id):
    """Delete a pipeline with no deals (409 for the default one, or one holding deals).
    Needs `pipelines.manage`."""
    services.delete_pipeline(current_actor(), pipeline_id, if_match_version())


# --------------------------------------------------------------------------- stages


def _stage_location(stage) -> str:
    return url_for("api_pipelines.get_stage", pipeline_id=stage.pipeline_id, stage_id=stage.id)


@blp.post("/<id:pipeline_id>/stages")
@blp.idempotent
@blp.arguments(StageWriteSchema)
@blp.response(201, envelope(StageSchema))
@blp.forbidden_unless_permitted
def create_stage(data, pipeline_id):
    """Add a stage (last, or at `position`). Needs `pipelines.manage`."""
    stage = services.create_stage(current_actor(), pipeline_id, data)
    body, status, headers = object_answer(stage, StageSchema, status=201)
    return body, status, dict(headers, Location=_stage_location(stage))


@blp.get("/<id:pipeline_id>/stages/<id:stage_id>")
@blp.response(200, envelope(StageSchema))
@blp.forbidden_unless_permitted
def get_stage(pipeline_id, stage_id):
    """One stage."""
    return object_answer(services.get_stage(current_actor(), pipeline_id, stage_id), StageSchema)


@blp.put("/<id:pipeline_id>/stages/<id:stage_id>")
@blp.idempotent
@blp.arguments(StageWriteSchema)
@blp.response(200, envelope(StageSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def replace_stage(data, pipeline_id, stage_id):
    """Replace a stage's fields (left out: probability 0, kind open, no rotting). Needs `pipelines.manage`."""
    return object_answer(services.update_stage(current_actor(), pipeline_id, stage_id, data, if_match_version()),
                         StageSchema)


@blp.patch("/<id:pipeline_id>/stages/<id:stage_id>")
@blp.idempotent
@blp.arguments(StagePatchSchema)
@blp.response(200, envelope(StageSchema))
@blp.forbidden_unless_permitted
@blp.versioned
def update_stage(data, pipeline_id, stage_id):
    """Change some fields of a stage, or move it with `position`. Needs `pipelines.manage`."""
    return object_answer(services.update_stage(current_actor(), pipeline_id, stage_id, data, if_match_version()),
                         StageSchema)


@blp.delete("/<id:pipeline_id>/stages/<id:stage_id>")
@blp.arguments(DeleteStageArgs, location="query")
@blp.response(204)
@blp.alt_response(409, response="CONFLICT")
@blp.forbidden_unless_permitted
@blp.versioned
def delete_stage(args, pipeline_id, stage_id):
    """Delete a stage. One holding deals needs `move_deals_to` (else 409); the last stage of a
    pipeline stays (409). Needs `pipelines.manage`."""
    services.delete_stage(current_actor(), pipeline_id, stage_id, args.get("move_deals_to"), if_match_version())


@blp.post("/<id:pipeline_id>/stages/reorder")
@blp.idempotent
@blp.arguments(ReorderSchema)
@blp.response(200, envelope(PipelineSchema))
@blp.forbidden_unless_permitted
def reorder_stages(data, pipeline_id):
    """Put the stages in a new order: `stage_ids` lists every stage once. Needs `pipelines.manage`."""
    pipeline = services.reorder_stages(current_actor(), pipeline_id, data["stage_ids"])
    return object_answer(pipeline, PipelineSchema)
