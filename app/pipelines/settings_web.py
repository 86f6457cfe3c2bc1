"""Sales settings: the index of its sections, and pipelines with their stages."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app.core.errors import DomainError, ValidationFailed
from app.core.htmx import is_htmx, render_page, with_trigger
from app.core.permissions import require
from app.core.web import browser_actor
from app.extensions import db
from app.pipelines import pipelines as services
from app.pipelines.models import STAGE_KINDS

bp = Blueprint("pipeline_settings", __name__, url_prefix="/pipelines/settings")

SECTIONS = (
    # title, what it is for, where (literal: other engineers' screens), who may open it
    ("Pipelines & stages", "Your sales pipelines, their stages, win probability and when deals go stale.",
     "/pipelines/settings/pipelines", ("pipelines.manage",)),
    ("Custom fields", "Extra fields on contacts, accounts, leads and deals.", "/pipelines/settings/custom-fields",
     ("crm.settings",)),
    ("Lead-capture forms", "Forms on your website that drop leads straight into Trellis.",
     "/pipelines/settings/capture-forms", ("crm.settings",)),
    ("Inbound webhook", "The secret Zapier or Make use to send you leads.", "/pipelines/settings/webhook",
     ("crm.settings",)),
)


def _int(raw) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.lstrip("-").isdecimal() and len(raw) < 10 else None


@bp.route("")
@login_required
def index():
    return render_template("pipelines/settings/index.html", sections=SECTIONS)


def _page(pipeline_id: int | None = None, errors: dict | None = None, status: int = 200, form=None):
    actor = browser_actor()
    require(actor, "pipelines.manage")
    pipelines = services.list_pipelines(actor)
    pipeline = next((p for p in pipelines if p.id == pipeline_id), pipelines[0])
    counts = services.deal_counts(s.id for s in pipeline.stages)
    return render_page("pipelines/settings/pipelines.html", block="editor", pipelines=pipelines, pipeline=pipeline,
                       counts=counts, kinds=STAGE_KINDS, errors=errors or {}, form=form or {}, status=status)


@bp.route("/pipelines")
@login_required
def pipelines():
    return _page(_int(request.args.get("pipeline_id")))


def _done(pipeline_id: int, message: str):
    if is_htmx():
        response = _page(pipeline_id)
        return with_trigger(response, "trellis:flash", {"message": message, "level": "success"})
    flash(message, "success")
    return redirect(url_for("pipeline_settings.pipelines", pipeline_id=pipeline_id), code=303)


def _refused(pipeline_id: int | None, exc: DomainError, prefix: str = ""):
    """The editor again with the errors next to the fields (`prefix` names the form)."""
    db.session.rollback()
    errors = {f"{prefix}{key}": messages for key, messages in exc.errors.items()}
    if exc.status != 422 or not errors:
        errors[f"{prefix}_form"] = [exc.message]
    return _page(pipeline_id, errors, status=422 if exc.status == 422 else exc.status, form=request.form)


@bp.route("/pipelines/new", methods=["POST"])
@login_required
def create_pipeline():
    try:
        pipeline = services.create_pipeline(browser_actor(), {"name": request.form.get("name", "")})
    except DomainError as exc:
        return _refused(_int(request.form.get("current")), exc, "new_pipeline.")
    return _done(pipeline.id, f"Pipeline \u201c{pipeline.name}\u201d added with the usual stages: rename or"
                              " change them below.")


@bp.route("/pipelines/<id:pipeline_id>", methods=["POST"])
@login_required
def update_pipeline(pipeline_id: int):
    data = {"name": request.form.get("name", "")}
    if request.form.get("is_default"):
        data["is_default"] = True
    try:
        pipeline = services.update_pipeline(browser_actor(), pipeline_id, data, _int(request.form.get("version")))
    except DomainError as exc:
        return _refused(pipeline_id, exc, "pipeline.")
    return _done(pipeline.id, f"Pipeline \u201c{pipeline.name}\u201d saved.")


@bp.route("/pipelines/<id:pipeline_id>/delete", methods=["POST"])
@login_required
def delete_pipeline(pipeline_id: int):
    actor = browser_actor()
    try:
        name = services.get_pipeline(actor, pipeline_id).name
        services.delete_pipeline(actor, pipeline_id)
    except DomainError as exc:
        return _refused(pipeline_id, exc, "pipeline.")
    return _done(services.default_pipeline().id, f"Pipeline \u201c{name}\u201d deleted.")


def _stage_values(form) -> dict:
    return {"name": form.get("name", ""), "probability": _int(form.get("probability")) if form.get("probability")
            else 0, "kind": form.get("kind") or "open",
            "rotting_days": _int(form.get("rotting_days")) if (form.get("rotting_days") or "").strip() else None}


def _checked_numbers(form) -> None:
    """A probability or rotting days that is not a whole number says so (not "between 0 and 100")."""
    errors = {}
    for name, words in (("probability", "The probability must be a whole number between 0 and 100."),
                        ("rotting_days", "The rotting days must be a whole number between 1 and 3650, or empty.")):
        raw = (form.get(name) or "").strip()
        if raw and _int(raw) is None:
            errors[name] = [words]
    if errors:
        raise ValidationFailed(errors)


@bp.route("/pipelines/<id:pipeline_id>/stages", methods=["POST"])
@login_required
def create_stage(pipeline_id: int):
    try:
        _checked_numbers(request.form)
        stage = services.create_stage(browser_actor(), pipeline_id, _stage_values(request.form))
    except DomainError as exc:
        return _refused(pipeline_id, exc, "new_stage.")
    return _done(pipeline_id, f"Stage \u201c{stage.name}\u201d added.")


@bp.route("/pipelines/<id:pipeline_id>/stages/<id:stage_id>", methods=["POST"])
@login_required
def update_stage(pipeline_id: int, stage_id: int):
    try:
        _checked_numbers(request.form)
        stage = services.update_stage(browser_actor(), pipeline_id, stage_id, _stage_values(request.form),
                                      _int(request.form.get("version")))
    except DomainError as exc:
        return _refused(pipeline_id, exc, f"stage{stage_id}.")
    return _done(pipeline_id, f"Stage \u201c{stage.name}\u201d saved.")


@bp.route("/pipelines/<id:pipeline_id>/stages/<id:stage_id>/delete", methods=["POST"])
@login_required
def delete_stage(pipeline_id: int, stage_id: int):
    actor = browser_actor()
    try:
        name = services.get_stage(actor, pipeline_id, stage_id).name
        services.delete_stage(actor, pipeline_id, stage_id, _int(request.form.get("move_deals_to")))
    except DomainError as exc:
        return _refused(pipeline_id, exc, f"stage{stage_id}.")
    return _done(pipeline_id, f"Stage \u201c{name}\u201d deleted.")


@bp.route("/pipelines/<id:pipeline_id>/stages/order", methods=["POST"])
@login_required
def reorder_stages(pipeline_id: int):
    """The stage rows after a drag (or the up/down buttons without JavaScript)."""
    actor = browser_actor()
    ids = [_int(v) for v in request.form.getlist("stage_ids")]
    move, stage_id = request.form.get("move"), _int(request.form.get("stage_id"))
    try:
        if move in ("up", "down") and stage_id:
            current = [s.id for s in services.get_pipeline(actor, pipeline_id).stages]
            if stage_id in current:
                at = current.index(stage_id)
                to = max(0, min(len(current) - 1, at + (-1 if move == "up" else 1)))
                current.insert(to, current.pop(at))
            ids = current
        services.reorder_stages(actor, pipeline_id, ids)
    except DomainError as exc:
        return _refused(pipeline_id, exc)
    return _done(pipeline_id, "Stage order saved.")
