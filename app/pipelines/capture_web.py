"""Settings screens for lead capture: capture forms (list, create, edit, rotate key, the
embeddable HTML snippet) and the inbound webhook secret (hint, regenerate, shown once)."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from app.core.errors import PreconditionFailed, ValidationFailed
from app.core.htmx import htmx_redirect, render_page
from app.core.permissions import require
from app.core.web import apply_errors, browser_actor
from app.extensions import db
from app.pipelines import capture as services
from app.pipelines.leads import is_row_id
from app.pipelines.leads_web import staff_choices
from app.pipelines.models import Pipeline, Stage

bp = Blueprint("capture_settings", __name__, url_prefix="/pipelines/settings")


class CaptureFormForm(FlaskForm):
    name = StringField("Name", description="For you, e.g. “Website contact form”.")
    stage_id = SelectField("Pipeline and stage for its deals", choices=[], validate_choice=False,
                           description="Suggested when a captured lead is converted into a deal.")
    owner_id = SelectField("Owner of captured leads", choices=[], validate_choice=False)
    allowed_origins = TextAreaField("Allowed websites", description="One origin per line, e.g. https://www.example.com."
                                    " Only these pages may post the form from a browser script (CORS).")
    honeypot_field = StringField("Honeypot field name", default="website_url",
                                 description="A hidden input people never see; bots fill it in and their"
                                             " posts are quietly dropped.")
    is_active = BooleanField("Active", default=True)

    def values(self) -> dict:
        stage_raw = str(self.stage_id.data or "")
        stage = db.session.get(Stage, int(stage_raw)) if stage_raw.isdecimal() and is_row_id(int(stage_raw)) else None
        owner_raw = str(self.owner_id.data or "")
        return {"name": self.name.data or "", "pipeline_id": stage.pipeline_id if stage else None,
                "stage_id": stage.id if stage else None,
                "owner_id": int(owner_raw) if owner_raw.isdecimal() else None,
                "allowed_origins": self.allowed_origins.data or "",
                "honeypot_field": self.honeypot_field.data or "", "is_active": bool(self.is_active.data)}


def _form(capture_form=None) -> CaptureFormForm:
    form = CaptureFormForm()
    if request.method == "GET" and capture_form is not None:
        form = CaptureFormForm(formdata=None, data={
            "name": capture_form.name, "stage_id": str(capture_form.stage_id or ""),
            "owner_id": str(capture_form.owner_id or ""),
            "allowed_origins": "\n".join(capture_form.allowed_origins or []),
            "honeypot_field": capture_form.honeypot_field, "is_active": capture_form.is_active})
    pipelines = db.session.scalars(select(Pipeline).order_by(Pipeline.position, Pipeline.id)).all()
    form.stage_id.choices = [("", "None (use the default pipeline)")] + [
        (str(s.id), f"{p.name} › {s.name}") for p in pipelines for s in p.stages if s.kind == "open"]
    form.owner_id.choices = [("", "Nobody (admins see them)")] + staff_choices()
    return form


def embed_snippet(capture_form) -> str:
    """A plain HTML form that posts to the public endpoint, honeypot included."""
    endpoint = url_for("api_public_leads.capture_with_key", key=capture_form.key, _external=True)
    honeypot = capture_form.honeypot_field or "website_url"
    return f"""<form action="{endpoint}" method="post">
  <p><label>Name<br><input name="name" required autocomplete="name"></label></p>
  <p><label>E-mail<br><input type="email" name="email" required autocomplete="email"></label></p>
  <p><label>Phone<br><input type="tel" name="phone" autocomplete="tel"></label></p>
  <p><label>Company<br><input name="company_name" autocomplete="organization"></label></p>
  <p><label>How can we help?<br><textarea name="description" rows="4"></textarea></label></p>
  <!-- Leave this field hidden and empty: only bots fill it in. -->
  <div style="position:absolute;left:-10000px" aria-hidden="true">
    <input type="text" name="{honeypot}" tabindex="-1" autocomplete="off" value="">
  </div>
  <input type="hidden" name="source" value="website-form">
  <p><button type="submit">Send</button></p>
</form>"""


@bp.route("/capture-forms")
@login_required
def forms():
    actor = browser_actor()
    params, error = services.CAPTURE_FORM_LIST.parse_for_page(request.args)
    page = services.list_forms(actor, params)
    return render_page("pipelines/settings/capture_forms.html", page=page, params=params, error=error)


@bp.route("/capture-forms/new", methods=["GET", "POST"])
@login_required
def new_form():
    actor = browser_actor()
    require(actor, "crm.settings")
    form = _form()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                created = services.create_form(actor, form.values())
            except ValidationFailed as exc:
                apply_errors(form, _origin_errors_on_one_field(exc))
            else:
                flash(f"Capture form \u201c{created.name}\u201d added. Copy its HTML below into your website.", "success")
                return redirect(url_for("capture_settings.edit_form", form_id=created.id), code=303)
    return render_page("pipelines/settings/capture_form.html", form=form, capture_form=None, status=status)


def _origin_errors_on_one_field(exc: ValidationFailed) -> ValidationFailed:
    """The service names the bad line (allowed_origins.2); the textarea shows them together."""
    errors: dict[str, list[str]] = {}
    for key, messages in exc.errors.items():
        if key.startswith("allowed_origins."):
            line = int(key.split(".")[1]) + 1
            errors.setdefault("allowed_origins", []).extend(f"Line {line}: {m}" for m in messages)
        else:
            errors[key] = messages
    return ValidationFailed(errors)


@bp.route("/capture-forms/<id:form_id>", methods=["GET", "POST"])
@login_required
def edit_form(form_id: int):
    actor = browser_actor()
    capture_form = services.get_form(actor, form_id)
    form = _form(capture_form)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                services.update_form(actor, form_id, form.values())
            except (ValidationFailed, PreconditionFailed) as exc:
                apply_errors(form, _origin_errors_on_one_field(exc) if isinstance(exc, ValidationFailed) else exc)
                capture_form = services.get_form(actor, form_id)
            else:
                flash("Capture form saved.", "success")
                return redirect(url_for("capture_settings.edit_form", form_id=form_id), code=303)
    return render_page("pipelines/settings/capture_form.html", form=form, capture_form=capture_form,
                       snippet=embed_snippet(capture_form), status=status)


@bp.route("/capture-forms/<id:form_id>/rotate-key", methods=["POST"])
@login_required
def rotate_key(form_id: int):
    services.rotate_key(browser_actor(), form_id)
    flash("New key made. The old one no longer works: update the form on your website.", "warning")
    return htmx_redirect(url_for("capture_settings.edit_form", form_id=form_id))


@bp.route("/capture-forms/<id:form_id>/delete", methods=["POST"])
@login_required
def delete_form(form_id: int):
    actor = browser_actor()
    name = services.get_form(actor, form_id).name
    services.delete_form(actor, form_id)
    flash(f"Capture form \u201c{name}\u201d deleted.", "success")
    return htmx_redirect(url_for("capture_settings.forms"))


@bp.route("/webhook", methods=["GET", "POST"])
@login_required
def webhook():
    actor = browser_actor()
    plain = None
    if request.method == "POST":
        row, plain = services.regenerate_webhook_secret(actor)
    else:
        row = services.get_webhook_secret(actor)
    endpoint = url_for("api_public_leads.capture_from_webhook", _external=True)
    response = render_page("pipelines/settings/webhook.html", secret=row, plain=plain, endpoint=endpoint)
    response.headers["Cache-Control"] = "no-store"  # the page may hold the secret
    return response
