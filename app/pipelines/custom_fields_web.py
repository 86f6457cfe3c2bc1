"""Settings › Custom fields (and the contact statuses): what a business adds to its
contacts, leads, deals and accounts. Needs `crm.settings`."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_login import login_required

from app.core.errors import Conflict, ValidationFailed
from app.core.htmx import htmx_redirect, render_page
from app.core.permissions import require
from app.core.web import browser_actor
from app.extensions import db
from app.pipelines import contacts, custom_fields
from app.pipelines.custom_fields import ENTITIES
from app.pipelines.models import CUSTOM_FIELD_TYPES

bp = Blueprint("crm_custom_fields", __name__, url_prefix="/pipelines/settings/custom-fields")

ENTITY_LABELS = {"contact": "Contacts", "lead": "Leads", "deal": "Deals", "account": "Accounts"}
TYPE_LABELS = {"text": "Text", "number": "Number", "date": "Date", "choice": "Choice (pick one)",
               "checkbox": "Checkbox (yes/no)"}


def _values(form) -> dict:
    values = {name: form.get(name, "") for name in ("entity", "key", "label", "type", "options")}
    values["required"] = form.get("required") == "1"
    position = form.get("position", "").strip()
    if position.isdecimal():
        values["position"] = int(position)
    return values


def _page(actor, errors=None, posted=None, status_errors=None, status_posted=None, status=200):
    return render_page("pipelines/settings/custom_fields.html", status=status,
                       by_entity=custom_fields.fields_by_entity(actor), statuses=contacts.statuses(),
                       errors=errors or {}, posted=posted or {"entity": request.args.get("entity", "contact")},
                       status_errors=status_errors or {}, status_posted=status_posted or {},
                       entities=ENTITIES, entity_labels=ENTITY_LABELS, types=CUSTOM_FIELD_TYPES,
                       type_labels=TYPE_LABELS)


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    actor = browser_actor()
    require(actor, "crm.settings")
    if request.method == "GET":
        return _page(actor)
    try:
        definition = custom_fields.create_field(actor, _values(request.form))
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(actor, errors=exc.errors, posted=request.form, status=422)
    flash(f"Field \u201c{definition.label}\u201d added to {ENTITY_LABELS[definition.entity].lower()}.", "success")
    return redirect(url_for("crm_custom_fields.index"), code=303)


@bp.route("/<id:field_id>/edit", methods=["GET", "POST"])
@login_required
def edit(field_id: int):
    actor = browser_actor()
    require(actor, "crm.settings")
    definition = custom_fields.get_field(actor, field_id)
    errors, posted = {}, None
    if request.method == "POST":
        posted = request.form
        values = _values(request.form)
        for fixed in ("entity", "key"):  # shown, not editable
            values.pop(fixed)
        try:
            custom_fields.update_field(actor, field_id, values)
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
            definition = custom_fields.get_field(actor, field_id)
        else:
            flash(f"Field \u201c{definition.label}\u201d saved.", "success")
            return redirect(url_for("crm_custom_fields.index"), code=303)
    if posted is None:
        posted = {"label": definition.label, "type": definition.type, "options": "\n".join(definition.options or []),
                  "required": "1" if definition.required else "", "position": str(definition.position)}
    return render_page("pipelines/settings/custom_field_edit.html", definition=definition, errors=errors,
                       posted=posted, types=CUSTOM_FIELD_TYPES, type_labels=TYPE_LABELS,
                       entity_labels=ENTITY_LABELS, status=422 if errors else 200)


@bp.route("/<id:field_id>/delete", methods=["POST"])
@login_required
def delete(field_id: int):
    actor = browser_actor()
    label = custom_fields.get_field(actor, field_id).label
    custom_fields.delete_field(actor, field_id)
    flash(f"Field \u201c{label}\u201d deleted.", "success")
    return htmx_redirect(url_for("crm_custom_fields.index"))


@bp.route("/statuses", methods=["POST"])
@login_required
def add_status():
    actor = browser_actor()
    try:
        status = contacts.create_status(actor, request.form.get("name", ""), request.form.get("is_customer") == "1")
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(actor, status_errors=exc.errors, status_posted=request.form, status=422)
    flash(f"Status \u201c{status.name}\u201d added.", "success")
    return redirect(url_for("crm_custom_fields.index") + "#statuses", code=303)


@bp.route("/statuses/<id:status_id>/delete", methods=["POST"])
@login_required
def delete_status(status_id: int):
    actor = browser_actor()
    try:
        contacts.delete_status(actor, status_id)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        flash("Status deleted.", "success")
    return htmx_redirect(url_for("crm_custom_fields.index") + "#statuses")
