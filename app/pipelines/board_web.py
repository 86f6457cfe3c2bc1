"""The deal board: a pipeline's stages as columns, deals as cards, dragged between them.

Each column shows its first cards and loads the next ones when scrolled to the end, so
a column of 500 deals costs what a column of 30 does. A move answers with the card and,
out of band, the headers (count and total) of the columns it left and entered and the
board's summary of its open deals. Won or lost from a card says so with an Undo.
"""
from datetime import datetime

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from app.core.errors import DomainError, NotFound
from app.core.htmx import is_htmx, with_trigger
from app.core.models import as_utc, utcnow
from app.core.web import browser_actor, flash_refusal
from app.extensions import db
from app.pipelines import deals as deal_rules
from app.pipelines import pipelines as pipeline_rules
from app.pipelines.models import Deal, Pipeline, Stage
from app.pipelines.money import format_money

bp = Blueprint("board", __name__, url_prefix="/pipelines")


# --------------------------------------------------------------------------- helpers


@bp.app_template_filter("money")
def money_filter(value, currency=None, cents=True):
    business = getattr(getattr(browser_actor(), "user", None), "business", None)
    currency = currency or (business.currency if business else None)
    return format_money(value, currency, business.decimal_separator if business else ".", cents)


def days_in_stage(deal: Deal, now: datetime | None = None) -> int:
    entered = as_utc(deal.stage_entered_at or deal.created_at)
    return max(0, ((now or utcnow()) - entered).days) if entered else 0


def is_rotting(deal: Deal, stage: Stage, now: datetime | None = None) -> bool:
    return bool(deal.status == "open" and stage.rotting_days and days_in_stage(deal, now) > stage.rotting_days)


def _int_arg(source, name: str) -> int | None:
    raw = (source.get(name) or "").strip()
    return int(raw) if raw.isdecimal() and len(raw) < 10 else None


def _pipeline_for(pipeline_id: int | None, pipelines: list[Pipeline]) -> Pipeline:
    for pipeline in pipelines:
        if pipeline.id == pipeline_id:
            return pipeline
    return pipelines[0]


def _stage(stage_id: int) -> Stage:
    stage = db.session.get(Stage, stage_id)
    if stage is None:
        raise NotFound()
    return stage


def _card_context(stage: Stage) -> dict:
    return {"stage": stage, "now": utcnow(), "days_in_stage": days_in_stage, "is_rotting": is_rotting}


def _board_url(pipeline_id=None, owner_id=None) -> str:
    return url_for("board.board", pipeline_id=pipeline_id, owner_id=owner_id or None)


# --------------------------------------------------------------------------- the board


@bp.route("/board")
@login_required
def board():
    actor = browser_actor()
    pipelines = pipeline_rules.list_pipelines(actor)
    pipeline = _pipeline_for(_int_arg(request.args, "pipeline_id"), pipelines)
    owner_id = _int_arg(request.args, "owner_id")
    totals = deal_rules.board_totals(actor, pipeline, owner_id)
    cards = deal_rules.board_cards(actor, pipeline, owner_id)
    return render_template(
        "pipelines/board/index.html", pipelines=pipelines, pipeline=pipeline, owner_id=owner_id,
        owners=deal_rules.owners(), totals=totals, cards=cards, page_size=deal_rules.BOARD_PAGE,
        summary=deal_rules.open_summary(pipeline, totals), **_card_context(None),
    )


@bp.route("/board/stages/<id:stage_id>/cards")
@login_required
def more_cards(stage_id: int):
    """The next cards of a column, for scrolling (and a new loader when more remain)."""
    actor = browser_actor()
    stage = _stage(stage_id)
    owner_id = _int_arg(request.args, "owner_id")
    after = int(request.args.get("after", "-1")) if request.args.get("after", "").lstrip("-").isdecimal() else -1
    cards = deal_rules.column_cards(actor, stage, after, owner_id)
    return render_template("pipelines/board/_more.html", cards=cards, owner_id=owner_id,
                           page_size=deal_rules.BOARD_PAGE, **_card_context(stage))


def _columns_answer(actor, stage_ids, owner_id, body: str = "", status: int = 200):
    """`body` plus, swapped out of band, the refreshed headers of the columns `stage_ids`
    and the board's summary ("N open deals worth ...") above them."""
    stage_ids = list(dict.fromkeys(stage_ids))
    stages = {s.id: s for s in db.session.scalars(select(Stage).where(Stage.id.in_(stage_ids)))}
    totals = deal_rules.stage_totals(actor, stage_ids, owner_id)
    heads = "".join(render_template("pipelines/board/_column_head.html", stage=stages[sid], total=totals[sid],
                                    oob=True) for sid in stage_ids if sid in stages)
    if stages:  # the board on screen is the first column's pipeline (a move may leave it)
        pipeline = (stages.get(stage_ids[0]) or next(iter(stages.values()))).pipeline
        summary = deal_rules.open_summary(pipeline, deal_rules.board_totals(actor, pipeline, owner_id))
        heads += render_template("pipelines/board/_summary.html", summary=summary, oob=True)
    response = make_response(body + heads, status)
    response.vary.add("HX-Request")
    return response


def _failed(exc: DomainError, deal_id: int):
    """A refused move: the card goes back (the page listens) and the reason is shown."""
    status = exc.status if exc.status in (403, 404, 409, 412, 422) else 400
    if not is_htmx():
        flash_refusal(exc)
        return redirect(request.referrer or _board_url(), code=303)
    db.session.rollback()
    response = make_response(exc.message, status)
    response.headers["HX-Reswap"] = "none"
    with_trigger(response, "trellis:flash", {"message": exc.message, "level": "danger"})
    return with_trigger(response, "trellis:move-failed", {"deal_id": deal_id})


@bp.route("/board/deals/<id:deal_id>/move", methods=["POST"])
@login_required
def move(deal_id: int):
    """Drop a card: stage_id, after_id (the card now above it; none: top), lost_reason."""
    actor = browser_actor()
    form = request.form
    owner_id = _int_arg(form, "owner_id")
    try:
        deal = deal_rules.find_visible_deal(actor, deal_id)
        before = _place(deal)
        old_stage_id = deal.stage_id
        stage = deal_rules.find_stage(_int_arg(form, "stage_id"))
        position = deal_rules.position_after(deal, stage, _int_arg(form, "after_id"))
        deal = deal_rules.move_deal_to_stage(deal, stage, position, actor, lost_reason=form.get("lost_reason"),
                                             expected_version=_int_arg(form, "version"))
    except DomainError as exc:
        return _failed(exc, deal_id)
    if not is_htmx():
        return redirect(_board_url(stage.pipeline_id, owner_id), code=303)
    card = render_template("pipelines/board/_card.html", deal=deal, owner_id=owner_id, **_card_context(stage))
    if before["status"] == "open" and deal.status != "open":  # dropped on Won or Lost: say so, offer Undo
        card += _closed_message(actor, deal, before, owner_id)
    return _columns_answer(actor, [old_stage_id, stage.id], owner_id, card)


@bp.route("/board/stages/<id:stage_id>/deals", methods=["POST"])
@login_required
def add_deal(stage_id: int):
    """The small form at the top of a column: a title and a value."""
    actor = browser_actor()
    stage = _stage(stage_id)
    owner_id = _int_arg(request.form, "owner_id")
    values = {"title": request.form.get("title", ""), "stage_id": stage.id, "value": request.form.get("value", "")}
    try:
        deal = deal_rules.create_deal(actor, values)
    except DomainError as exc:
        if not is_htmx():
            flash_refusal(exc)
            return redirect(_board_url(stage.pipeline_id, owner_id), code=303)
        db.session.rollback()
        errors = getattr(exc, "errors", {}) or {"title": [exc.message]}
        body = render_template("pipelines/board/_add_form.html", stage=stage, owner_id=owner_id,
                               errors=errors, form=request.form)
        return make_response(body, 422 if exc.status == 422 else exc.status)
    if not is_htmx():
        flash(f"Deal \u201c{deal.title}\u201d added.", "success")
        return redirect(_board_url(stage.pipeline_id, owner_id), code=303)
    body = render_template("pipelines/board/_add_form.html", stage=stage, owner_id=owner_id, errors={}, form={},
                           added=deal)
    body += render_template("pipelines/board/_card.html", deal=deal, owner_id=owner_id, oob_into=stage.id,
                            **_card_context(stage))
    return _columns_answer(actor, [stage.id], owner_id, body)


def _datetime_arg(form, name: str) -> datetime | None:
    try:
        return datetime.fromisoformat(form.get(name) or "")
    except ValueError:
        return None


def _place(deal: Deal) -> dict:
    """Where a deal is, for an Undo that puts it back (the days-in-stage clock too)."""
    entered = as_utc(deal.stage_entered_at).isoformat() if deal.stage_entered_at else ""
    return {"stage_id": deal.stage_id, "position": deal.position, "status": deal.status, "entered": entered}


def _closed_message(actor, deal: Deal, before: dict, owner_id) -> str:
    """The page's message after a card is won or lost, with Undo (out of band)."""
    undo = before if before["status"] == "open" and actor.can("deals.update") else None
    return render_template("pipelines/board/_closed_flash.html", deal=deal, undo=undo, owner_id=owner_id)


def _closed(actor, before: dict, deal: Deal, owner_id):
    """After mark won/lost on the board: the card leaves its column for the closing one,
    the headers and the summary follow, and the message offers Undo."""
    stage = _stage(deal.stage_id)
    if not is_htmx():
        flash(f"\u201c{deal.title}\u201d marked {deal.status}.", "success")
        return redirect(_board_url(deal.pipeline_id, owner_id), code=303)
    card = render_template("pipelines/board/_card.html", deal=deal, owner_id=owner_id, oob_into=stage.id,
                           **_card_context(stage))
    return _columns_answer(actor, [before["stage_id"], stage.id], owner_id,
                           card + _closed_message(actor, deal, before, owner_id))


@bp.route("/board/deals/<id:deal_id>/won", methods=["POST"])
@login_required
def mark_won(deal_id: int):
    actor = browser_actor()
    owner_id = _int_arg(request.form, "owner_id")
    try:
        before = _place(deal_rules.find_visible_deal(actor, deal_id))
        deal = deal_rules.mark_won(actor, deal_id)
    except DomainError as exc:
        return _failed(exc, deal_id)
    return _closed(actor, before, deal, owner_id)


@bp.route("/board/deals/<id:deal_id>/lost", methods=["POST"])
@login_required
def mark_lost(deal_id: int):
    """The board asks for the reason (a prompt) and sends it as lost_reason."""
    actor = browser_actor()
    owner_id = _int_arg(request.form, "owner_id")
    reason = request.form.get("lost_reason")
    try:
        before = _place(deal_rules.find_visible_deal(actor, deal_id))
        deal = deal_rules.mark_lost(actor, deal_id, reason)
    except DomainError as exc:
        return _failed(exc, deal_id)
    return _closed(actor, before, deal, owner_id)


@bp.route("/board/deals/<id:deal_id>/reopen", methods=["POST"])
@login_required
def reopen(deal_id: int):
    """Undo of won/lost: back, open, to the stage and position the Undo form names. The
    answer replaces the message; out of band, the card leaves the closing column, the
    column it returns to is redrawn (so it sits where it was), and headers and summary."""
    actor = browser_actor()
    form = request.form
    owner_id = _int_arg(form, "owner_id")
    try:
        closed_stage_id = deal_rules.find_visible_deal(actor, deal_id).stage_id
        deal = deal_rules.reopen_deal(actor, deal_id, _int_arg(form, "stage_id"), _int_arg(form, "position"),
                                      expected_version=_int_arg(form, "version"),
                                      stage_entered_at=_datetime_arg(form, "entered"))
    except DomainError as exc:
        return _failed(exc, deal_id)
    message = f"\u201c{deal.title}\u201d is open again, back in {deal.stage.name}."
    if not is_htmx():
        flash(message, "success")
        return redirect(_board_url(deal.pipeline_id, owner_id), code=303)
    stage = _stage(deal.stage_id)
    body = render_template("pipelines/board/_reopened.html", message=message, deal=deal, owner_id=owner_id,
                           cards=deal_rules.column_cards(actor, stage, -1, owner_id), page_size=deal_rules.BOARD_PAGE,
                           **_card_context(stage))
    return _columns_answer(actor, [closed_stage_id, stage.id], owner_id, body)
