"""Deals screens: the list (search, filters, sort, bulk actions) and a deal's page."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from app.core.errors import DomainError, PreconditionFailed, ValidationFailed
from app.core.htmx import htmx_redirect, render_page
from app.core.permissions import require
from app.core.web import browser_actor, flash_refusal
from app.extensions import db
from app.pipelines import deals as services
from app.pipelines import exports
from app.pipelines import pipelines as pipeline_rules
from app.pipelines.access import visible
from app.pipelines.common import custom_field_definitions
from app.pipelines.exports_web import csv_download, csv_or_progress
from app.pipelines.models import Account, Contact
from app.pipelines.record_web import bulk_choice, chosen_ids, safe_next, with_list_query

bp = Blueprint("deals", __name__, url_prefix="/pipelines/deals")

PICKER_LIMIT = 500  # contacts/accounts offered in a deal's pickers


def _ids(values) -> list[int]:
    return [int(v) for v in values if str(v).isdecimal() and len(str(v)) < 10]


def _int(raw) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdecimal() and len(raw) < 10 else None


@bp.route("")
@login_required
def index():
    actor = browser_actor()
    params, error = services.DEAL_LIST.parse_for_page(request.args)
    page = services.list_deals(actor, params)
    return render_page("pipelines/deals/index.html", block="results", page=page, params=params, error=error,
                       pipelines=pipeline_rules.list_pipelines(actor), owners=services.owners(),
                       statuses=("open", "won", "lost"))




@bp.route("/export")
@login_required
def export():
    """Every deal matching the list's search and filters, as CSV."""
    return csv_or_progress(exports.export_now_or_later(browser_actor(), "deals", request.args))


@bp.route("/bulk", methods=["POST"])
@login_required
def bulk():
    """Assign owner, delete or export the ticked deals, or all the deals the list matches."""
    actor = browser_actor()
    action = request.form.get("action")
    back = safe_next(request.form.get("next"), "/pipelines/deals", url_for("deals.index"))
    try:
        ids, all_matching = chosen_ids(actor, request.form, services.DEAL_LIST, services.matching_deal_ids,
                                       name="deal_ids")
        if not ids:
            flash("No deals match." if all_matching else "Tick the deals first.", "warning")
            return redirect(back, code=303)
        if action == "export" and all_matching:  # the list's own export: streams, or a job when large
            return redirect(with_list_query(url_for("deals.export"), request.form.get("list_query")), code=303)
        if action == "export":
            return csv_download(exports.export_selected(actor, "deals", ids))
        if action == "delete":
            count = services.delete_deals(actor, ids)
            flash(f"{count:,} deal{'s' if count != 1 else ''} deleted.", "success")
        elif action == "assign" and bulk_choice(request.form, "owner_id") is None:
            flash("Choose the new owner first.", "warning")
        elif action == "assign":
            count = services.assign_deals(actor, ids, _int(bulk_choice(request.form, "owner_id")))
            flash(f"{count:,} deal{'s' if count != 1 else ''} assigned.", "success")
        else:
            flash("Choose what to do with the ticked deals.", "warning")
    except DomainError as exc:
        flash_refusal(exc)
    return redirect(back, code=303)


# --------------------------------------------------------------------------- one deal


def _pickers(actor, deal) -> dict:
    contacts = visible(select(Contact), Contact, actor, "contacts").order_by(Contact.first_name, Contact.last_name)
    accounts = visible(select(Account), Account, actor, "accounts").order_by(Account.name)
    return {
        "pipelines": pipeline_rules.list_pipelines(actor),
        "owners": services.owners(),
        "agents": services.commission_agents(),
        "contacts": list(db.session.scalars(contacts.limit(PICKER_LIMIT))),
        "accounts": list(db.session.scalars(accounts.limit(PICKER_LIMIT))),
        "custom_fields": custom_field_definitions("deal"),
    }


def _form_values() -> dict:
    form = request.form
    values = {
        "title": form.get("title", ""),
        "value": form.get("value", ""),  # read by the service in the business's number format
        "currency": form.get("currency", ""),
        "stage_id": _int(form.get("stage_id")),
        "owner_id": _int(form.get("owner_id")),
        "contact_id": _int(form.get("contact_id")),
        "account_id": _int(form.get("account_id")),
        "commission_agent_id": _int(form.get("commission_agent_id")),
        "expected_close_date": form.get("expected_close_date", ""),
    }
    if "lost_reason" in form:
        values["lost_reason"] = form.get("lost_reason")
    custom = {key[len("custom_fields."):]: value for key, value in form.items() if key.startswith("custom_fields.")}
    for definition in custom_field_definitions("deal"):
        if definition.type == "checkbox":
            custom[definition.key] = "1" if form.get(f"custom_fields.{definition.key}") else "0"
    if custom:
        values["custom_fields"] = custom
    return values


class _CsrfOnly(FlaskForm):
    """The deal form is hand-written (stage, pickers, custom fields); Flask-WTF checks its token."""


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    actor = browser_actor()
    require(actor, "deals.create")
    errors, status = {}, 200
    if request.method == "POST" and _CsrfOnly().validate_on_submit():
        try:
            deal = services.create_deal(actor, _form_values())
        except ValidationFailed as exc:
            db.session.rollback()
            errors, status = exc.errors, 422
        else:
            flash(f"Deal \u201c{deal.title}\u201d added.", "success")
            return redirect(url_for("deals.detail", deal_id=deal.id), code=303)
    default_stage = _int(request.args.get("stage_id"))
    return render_page("pipelines/deals/form.html", deal=None, errors=errors, form=request.form,
                       default_stage=default_stage, status=status, **_pickers(actor, None))


@bp.route("/<id:deal_id>", methods=["GET", "POST"])
@login_required
def detail(deal_id: int):
    actor = browser_actor()
    deal = services.get_deal(actor, deal_id)
    errors, status = {}, 200
    if request.method == "POST" and _CsrfOnly().validate_on_submit():
        try:
            services.update_deal(actor, deal_id, _form_values(), _int(request.form.get("version")))
        except (ValidationFailed, PreconditionFailed) as exc:
            db.session.rollback()
            deal = services.get_deal(actor, deal_id)
            errors = exc.errors or {"_form": [exc.message]}
            status = 409 if isinstance(exc, PreconditionFailed) else 422
        else:
            flash("Deal saved.", "success")
            return redirect(url_for("deals.detail", deal_id=deal_id), code=303)
    stages = next((p.stages for p in pipeline_rules.list_pipelines(actor) if p.id == deal.pipeline_id), [])
    return render_page("pipelines/deals/detail.html", deal=deal, errors=errors,
                       form=request.form if errors else {}, stages=stages, status=status, **_pickers(actor, deal))


@bp.route("/<id:deal_id>/won", methods=["POST"])
@login_required
def mark_won(deal_id: int):
    actor = browser_actor()
    try:
        services.mark_won(actor, deal_id, _int(request.form.get("version")))
        flash("Deal marked won. Well done!", "success")
    except DomainError as exc:
        flash_refusal(exc)
    return htmx_redirect(url_for("deals.detail", deal_id=deal_id))


@bp.route("/<id:deal_id>/lost", methods=["POST"])
@login_required
def mark_lost(deal_id: int):
    actor = browser_actor()
    try:
        services.mark_lost(actor, deal_id, request.form.get("lost_reason"), _int(request.form.get("version")))
        flash("Deal marked lost.", "success")
    except DomainError as exc:
        flash_refusal(exc)
    return htmx_redirect(url_for("deals.detail", deal_id=deal_id))


@bp.route("/<id:deal_id>/delete", methods=["POST"])
@login_required
def delete(deal_id: int):
    actor = browser_actor()
    title = services.get_deal(actor, deal_id).title
    services.delete_deal(actor, deal_id)
    flash(f"Deal \u201c{title}\u201d deleted.", "success")
    return htmx_redirect(url_for("deals.index"))
