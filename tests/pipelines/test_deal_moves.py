"""Moving deals between stages: positions stay 0..n-1, won/lost rules, outbox events."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.errors import Conflict, PreconditionFailed, ValidationFailed
from app.core.events import OutboxEvent
from app.extensions import db
from app.pipelines import deals, pipelines
from app.pipelines.models import Deal, Pipeline


def stages(name=None):
    pipeline = db.session.scalar(select(Pipeline).where(Pipeline.is_default.is_(True)))
    by_name = {stage.name: stage for stage in pipeline.stages}
    return by_name[name] if name else by_name


def column(stage) -> list[tuple[str, int]]:
    rows = db.session.execute(select(Deal.title, Deal.position).where(Deal.stage_id == stage.id)
                              .order_by(Deal.position)).all()
    return [tuple(r) for r in rows]


def titles(stage) -> list[str]:
    positions = column(stage)
    assert [p for _, p in positions] == list(range(len(positions))), positions
    return [t for t, _ in positions]


def add(actor, title, stage_name="Qualified", value="100"):
    return deals.create_deal(actor, {"title": title, "value": value, "stage_id": stages(stage_name).id})


def events(name):
    return [e.payload for e in db.session.scalars(select(OutboxEvent).where(OutboxEvent.name == name)
                                                  .order_by(OutboxEvent.id))]


def test_a_new_business_has_the_default_sales_pipeline(owner_actor):
    [pipeline] = pipelines.list_pipelines(owner_actor)
    assert pipeline.name == "Sales" and pipeline.is_default
    assert [(s.name, s.probability, s.kind, s.position) for s in pipeline.stages] == [
        ("Qualified", 10, "open", 0), ("Contact made", 20, "open", 1), ("Proposal", 50, "open", 2),
        ("Negotiation", 80, "open", 3), ("Won", 100, "won", 4), ("Lost", 0, "lost", 5)]


def test_a_business_without_pipelines_gets_one_lazily(owner_actor):
    for pipeline in db.session.scalars(select(Pipeline)):
        db.session.delete(pipeline)
    db.session.flush()
    assert [p.name for p in pipelines.list_pipelines(owner_actor)] == ["Sales"]


def test_new_deals_go_on_top_and_positions_stay_dense(owner_actor):
    for title in ("A", "B", "C"):
        add(owner_actor, title)
    assert titles(stages("Qualified")) == ["C", "B", "A"]
    created = events("deal.created")
    assert [e["title"] for e in created] == ["A", "B", "C"]
    assert created[0]["value"] == "100.00" and created[0]["currency"] == "USD"


def test_move_within_a_column_down_and_up(owner_actor):
    a, b, c, d = (add(owner_actor, t) for t in "ABCD")  # column: D C B A
    deals.move_deal(owner_actor, d.id, stages("Qualified").id, 2)
    assert titles(stages("Qualified")) == ["C", "B", "D", "A"]
    deals.move_deal(owner_actor, a.id, stages("Qualified").id, 0)
    assert titles(stages("Qualified")) == ["A", "C", "B", "D"]
    deals.move_deal(owner_actor, c.id, stages("Qualified").id, 99)  # past the end: last
    assert titles(stages("Qualified")) == ["A", "B", "D", "C"]
    assert events("deal.stage_changed") == []


def test_move_across_columns_keeps_both_columns_dense(owner_actor):
    a, b, c = (add(owner_actor, t) for t in "ABC")  # Qualified: C B A
    x, y = (add(owner_actor, t, "Proposal") for t in "XY")  # Proposal: Y X
    before = db.session.get(Deal, b.id).stage_entered_at
    moved = deals.move_deal(owner_actor, b.id, stages("Proposal").id, 1)
    assert titles(stages("Qualified")) == ["C", "A"]
    assert titles(stages("Proposal")) == ["Y", "B", "X"]
    assert moved.stage_id == stages("Proposal").id and moved.status == "open"
    assert moved.stage_entered_at >= before
    [event] = events("deal.stage_changed")
    assert event["from_stage_id"] == stages("Qualified").id and event["to_stage_id"] == stages("Proposal").id


def test_entering_a_won_stage_wins_the_deal(owner_actor):
    deal = add(owner_actor, "Big order", value="2500.50")
    won = deals.move_deal(owner_actor, deal.id, stages("Won").id)
    assert won.status == "won" and won.closed_at is not None and won.won_at == won.closed_at
    [event] = events("deal.won")
    assert event["id"] == deal.id and event["value"] == "2500.50"
    assert len(events("deal.stage_changed")) == 1


def test_a_lost_stage_needs_a_reason(owner_actor):
    deal = add(owner_actor, "Maybe")
    with pytest.raises(ValidationFailed) as exc:
        deals.move_deal(owner_actor, deal.id, stages("Lost").id)
    assert exc.value.errors == {"lost_reason": ["A reason is required to mark a deal as lost."]}
    db.session.rollback()
    deal = add(owner_actor, "Maybe")
    lost = deals.move_deal(owner_actor, deal.id, stages("Lost").id, lost_reason="  Went with a competitor ")
    assert (lost.status, lost.lost_reason) == ("lost", "Went with a competitor")
    assert events("deal.lost")[0]["lost_reason"] == "Went with a competitor"


def test_moving_back_to_an_open_stage_reopens(owner_actor):
    deal = add(owner_actor, "Comeback")
    deals.mark_lost(owner_actor, deal.id, "Budget cut")
    reopened = deals.move_deal(owner_actor, deal.id, stages("Negotiation").id)
    assert (reopened.status, reopened.closed_at, reopened.lost_reason) == ("open", None, None)
    assert titles(stages("Lost")) == [] and titles(stages("Negotiation")) == ["Comeback"]


def test_mark_won_and_lost_use_the_pipelines_closing_stages(owner_actor):
    a, b = add(owner_actor, "A"), add(owner_actor, "B")
    assert deals.mark_won(owner_actor, a.id).stage_id == stages("Won").id
    with pytest.raises(ValidationFailed):
        deals.mark_lost(owner_actor, b.id, "")
    db.session.rollback()


def test_mark_won_without_a_won_stage_is_a_conflict(owner_actor):
    deal = add(owner_actor, "A")
    pipeline = pipelines.default_pipeline()
    pipelines.delete_stage(owner_actor, pipeline.id, stages("Won").id)
    with pytest.raises(Conflict, match="no won stage"):
        deals.mark_won(owner_actor, deal.id)


def test_a_stale_move_is_refused(owner_actor):
    deal = add(owner_actor, "A")
    version = deal.version
    deals.update_deal(owner_actor, deal.id, {"title": "A2"})
    with pytest.raises(PreconditionFailed):
        deals.move_deal(owner_actor, deal.id, stages("Proposal").id, expected_version=version)


def test_delete_closes_the_gap(owner_actor):
    a, b, c = (add(owner_actor, t) for t in "ABC")
    deals.delete_deal(owner_actor, b.id)
    assert titles(stages("Qualified")) == ["C", "A"]


def test_deleting_a_stage_with_deals_needs_a_target(owner_actor):
    add(owner_actor, "A"), add(owner_actor, "B"), add(owner_actor, "P", "Proposal")
    pipeline = pipelines.default_pipeline()
    with pytest.raises(Conflict) as exc:
        pipelines.delete_stage(owner_actor, pipeline.id, stages("Qualified").id)
    assert exc.value.message == ("The stage \u201cQualified\u201d holds 2 deals."
                                 " Choose a stage to move them to, then delete it.")
    with pytest.raises(ValidationFailed):
        pipelines.delete_stage(owner_actor, pipeline.id, stages("Qualified").id, move_deals_to=stages("Qualified").id)
    proposal = stages("Proposal")
    pipelines.delete_stage(owner_actor, pipeline.id, stages("Qualified").id, move_deals_to=proposal.id)
    assert titles(proposal) == ["P", "B", "A"]
    assert [s.position for s in pipelines.default_pipeline().stages] == [0, 1, 2, 3, 4]


def test_value_rules(owner_actor):
    with pytest.raises(ValidationFailed) as exc:
        deals.create_deal(owner_actor, {"title": "", "value": "-1", "currency": "pounds"})
    assert exc.value.errors == {"title": ["The title field is required."], "value": ["The value must be at least 0."],
                                "currency": ["The currency must be a three-letter ISO 4217 code, e.g. GBP."]}
    deal = deals.create_deal(owner_actor, {"title": "T", "value": "12.5"})
    assert deal.value == Decimal("12.50") and deal.stage.name == "Qualified"
