"""Leads screens: list (live search, filters, sort, bulk actions), new lead, detail with
editable fields and the timeline, and the convert dialog (a Bootstrap modal loaded by
htmx; a normal page without JavaScript)."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectField, StringField, TextAreaField

from app.core.errors import Conflict, PreconditionFailed, ValidationFailed
from app.core.htmx import htmx_redirect, is_htmx, render_page
from app.core.permissions import require
from app.core.web import apply_errors, browser_actor
from app.extensions import db
from app.pipelines import exports
from app.pipelines import leads as services
from app.pipelines.contacts import cf_filters_from
from app.pipelines.exports_web import csv_download, csv_or_progress
from app.pipelines.models import LEAD_STATUSES, Pipeline
from app.pipelines.record_web import bulk_choice
from app.team.models import User

bp = Blueprint("leads", __name__, url_prefix="/pipelines/leads")

STATUS_LABELS = {"new": "New", "contacted": "Contacted", "qualified": "Qualified", "unqualified": "Unqualified",
                 "converted": "Converted"}
STATUS_BADGES = {"new": "text-bg-primary", "contacted": "text-bg-info", "qualified": "text-bg-success",
                 "unqualified": "text-bg-secondary", "converted": "text-bg-dark"}


def staff_choices() -> list[tuple[str, str]]:
    stmt = (select(User).where(User.deleted_at.is_(None), User.is_cmmsn_agnt.is_(False))
            .order_by(User.first_name, User.last_name))
    return [(str(u.id), u.full_name) for u in db.session.scalars(stmt)]


class LeadForm(FlaskForm):
    # No validators: the service owns the rules and its messages go next to the fields.
    first_name = StringField("First name")
    last_name = StringField("Last name")
    email = EmailField("E-mail")
    phone = StringField("Phone", description="Saved in international form (+44…) when it is a valid number.")
    company_name = StringField("Company")
    status = SelectField("Status", choices=[(s, STATUS_LABELS[s]) for s in services.SETTABLE_STATUSES])
    owner_id = SelectField("Owner", choices=[])
    source = StringField("Source", description="Where the lead came from, e.g. website-form, referral, trade fair.")
    description = TextAreaField("Notes")
    utm_source = StringField("UTM source")
    utm_medium = StringField("UTM medium")
    utm_campaign = StringField("UTM campaign")
    utm_term = StringField("UTM term")
    utm_content = StringField("UTM content")
    version = HiddenField()

    def values(self) -> dict:
        values = {name: f.data for name, f in self._fields.items() if name not in ("csrf_token", "version")}
        owner = values.pop("owner_id")
        values["owner_id"] = int(owner) if owner and owner.isdecimal() else None
        return values

    def loaded_version(self) -> int | None:
        raw = str(self.version.data or "")
        return int(raw) if raw.isdecimal() else None


def _lead_form(lead=None) -> LeadForm:
    form = LeadForm(obj=lead) if request.method == "GET" and lead is not None else LeadForm()
    form.owner_id.choices = [("", "Nobody")] + staff_choices()
    if lead is not None and lead.status == "converted":
        form.status.choices = [("converted", "Converted")]
    if request.method == "GET":
        if lead is not None:
            form.owner_id.data = str(lead.owner_id or "")
            form.version.data = str(lead.version)
        else:
            form.owner_id.data = str(browser_actor().user.id)
    return form


def _context(**extra) -> dict:
    return {"status_labels": STATUS_LABELS, "status_badges": STATUS_BADGES, **extra}


@bp.route("")
@login_required
def index():
    actor = browser_actor()
    params, error = services.LEAD_LIST.parse_for_page(request.args)
    try:
        page = services.list_leads(actor, params, cf_filters_from(request.args))
    except ValidationFailed as exc:  # an unknown custom field: say so, show the list unfiltered
        error = exc.message
        page = services.list_leads(actor, params)
    return render_page("pipelines/leads/index.html", block="results", page=page, params=params, error=error,
                       statuses=LEAD_STATUSES, owners=staff_choices(), sources=services.sources_in_use(),
                       **_context())


@bp.route("/export")
@login_required
def export():
    """Every lead matching the list's search and filters, as CSV."""
    return csv_or_progress(exports.export_now_or_later(browser_actor(), "leads", request.args))




@bp.route("/bulk", methods=["POST"])
@login_required
def bulk():
    actor = browser_actor()
    ids = [int(v) for v in request.form.getlist("ids") if v.isdecimal() and services.is_row_id(int(v))]
    action = request.form.get("action", "")
    back = _safe_back(request.form.get("next"))
    if action == "export" and ids:
        return csv_download(exports.export_selected(actor, "leads", ids))
    try:
        if not ids:
            raise ValidationFailed({"ids": ["Tick at least one lead first."]})
        if action == "assign":
            owner = bulk_choice(request.form, "owner_id")
            if owner is None:
                raise ValidationFailed({"owner_id": ["Choose the new owner first."]})
            done = services.bulk_assign(actor, ids, int(owner) if owner.isdecimal() else None)
            flash(f"{done} lead{'s' if done != 1 else ''} assigned.", "success")
        elif action == "status":
            done = services.bulk_set_status(actor, ids, request.form.get("status", ""))
            flash(f"Status changed on {done} lead{'s' if done != 1 else ''}.", "success")
        elif action == "delete":
            done = services.bulk_delete(actor, ids)
            flash(f"{done} lead{'s' if done != 1 else ''} deleted.", "success")
        else:
            raise ValidationFailed({"action": ["Choose what to do with the ticked leads."]})
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    return redirect(back, code=303)


def _safe_back(url: str | None) -> str:
    """Back to the list the form came from (its query string), never to another site."""
    if url and url.startswith("/pipelines/leads") and "//" not in url and "\\" not in url:
        return url
    return url_for("leads.index")


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    actor = browser_actor()
    require(actor, "leads.create")
    form = _lead_form()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            lead = services.create_lead(actor, form.values())
        except ValidationFailed as exc:
            apply_errors(form, exc)
            status = 422
        else:
            flash(f"Lead \u201c{lead.name}\u201d added.", "success")
            return redirect(url_for("leads.detail", lead_id=lead.id), code=303)
    elif request.method == "POST":
        status = 422  # a choice outside the lists: WTForms put its message next to the field
    return render_page("pipelines/leads/new.html", form=form, status=status, **_context())


@bp.route("/<id:lead_id>", methods=["GET", "POST"])
@login_required
def detail(lead_id: int):
    actor = browser_actor()
    lead = services.get_lead(actor, lead_id)
    form = _lead_form(lead)
    status = 200
    if request.method == "POST":
        require(actor, "leads.update")
        status = 422
        if form.validate_on_submit():
            try:
                services.update_lead(actor, lead_id, form.values(), form.loaded_version())
            except (ValidationFailed, PreconditionFailed) as exc:
                apply_errors(form, exc)
                status = 409 if isinstance(exc, PreconditionFailed) else 422
                lead = services.get_lead(actor, lead_id)
            else:
                flash("Lead saved.", "success")
                return redirect(url_for("leads.detail", lead_id=lead_id), code=303)
    return render_page("pipelines/leads/detail.html", lead=lead, form=form, status=status, **_context())


@bp.route("/<id:lead_id>/delete", methods=["POST"])
@login_required
def delete(lead_id: int):
    actor = browser_actor()
    name = services.get_lead(actor, lead_id).name
    services.delete_lead(actor, lead_id)
    flash(f"Lead \u201c{name}\u201d deleted.", "success")
    return htmx_redirect(url_for("leads.index"))


# --- converting ------------------------------------------------------------------------------


class ConvertForm(FlaskForm):
    contact = RadioField("Contact", choices=[("match", "Link"), ("new", "New")], default="match")
    create_deal = BooleanField("Also create a deal")
    deal_title = StringField("Deal title")
    deal_value = StringField("Value")
    stage_id = SelectField("Pipeline and stage", choices=[], validate_choice=False)

    def options(self) -> dict:
        stage = str(self.stage_id.data or "")
        stage_id = int(stage) if stage.isdecimal() else None
        return {"new_contact": self.contact.data == "new", "create_deal": bool(self.create_deal.data),
                "deal_title": self.deal_title.data, "deal_value": self.deal_value.data,
                "stage_id": stage_id, "pipeline_id": _pipeline_of(stage_id)}


def _pipeline_of(stage_id: int | None) -> int | None:
    from app.pipelines.models import Stage

    stage = db.session.get(Stage, stage_id) if services.is_row_id(stage_id) else None
    return stage.pipeline_id if stage else None


def _stage_groups() -> list[tuple[str, list[tuple[int, str]]]]:
    pipelines = db.session.scalars(select(Pipeline).order_by(Pipeline.position, Pipeline.id)).all()
    return [(p.name, [(s.id, s.name) for s in p.stages if s.kind != "lost"]) for p in pipelines]


@bp.route("/<id:lead_id>/convert", methods=["GET", "POST"])
@login_required
def convert(lead_id: int):
    actor = browser_actor()
    lead = services.get_lead(actor, lead_id)
    require(actor, "leads.convert")
    form = ConvertForm()
    status = 200
    if request.method == "GET":
        _, default_stage = services.default_pipeline_and_stage(lead)
        form.stage_id.data = str(default_stage.id) if default_stage else ""
        form.deal_title.data = lead.company_name or lead.name
    if request.method == "POST" and lead.status == "converted":
        status = 409  # converted meanwhile (another tab, another person): the page says so
    elif request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                services.convert_lead(lead, actor, form.options())
            except (ValidationFailed, Conflict) as exc:
                apply_errors(form, exc)
                status = exc.status
                lead = services.get_lead(actor, lead_id)
            else:
                flash(f"Lead \u201c{lead.name}\u201d converted.", "success")
                return htmx_redirect(url_for("leads.detail", lead_id=lead_id))
    template = "pipelines/leads/convert.html"
    if is_htmx():  # the modal when opened, only its form again after a refused POST
        template = "pipelines/leads/_convert_form.html" if request.method == "POST" else \
            "pipelines/leads/_convert_modal.html"
    return render_page(template, lead=lead, form=form, status=status, contact=services.matching_contact(lead),
                       account=services.matching_account(lead), stage_groups=_stage_groups(), **_context())
