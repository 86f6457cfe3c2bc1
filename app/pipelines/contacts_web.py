"""Contacts screens: list (live search, filters, sort, pages, bulk actions), detail page
with fields edited in place, create and full edit forms, delete with confirmation."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import login_required

from app.core.errors import PreconditionFailed, ValidationFailed
from app.core.htmx import htmx_redirect, render_page
from app.core.permissions import require
from app.core.web import browser_actor
from app.extensions import db
from app.pipelines import accounts, contacts, exports, records
from app.pipelines.contacts import CONTACT_LIST
from app.pipelines.exports_web import csv_or_progress
from app.pipelines.record_web import (
    FieldSpec,
    bulk_action,
    custom_specs,
    display_value,
    edit_one_field,
    errors_by_input,
    form_version,
    input_value,
    pretty_phone,
    values_from_form,
)

bp = Blueprint("contacts", __name__, url_prefix="/pipelines/contacts")


@bp.context_processor
def _field_helpers():
    return {"input_value": input_value, "display_value": display_value, "pretty_phone": pretty_phone}

NAME_FIELDS = ("prefix", "first_name", "last_name", "suffix")
ADDRESS = (("addr1", "Address line 1", 200), ("addr2", "Address line 2", 200), ("city", "City", 100),
           ("county", "County / state", 100), ("postcode", "Postcode", 20), ("country", "Country", 100))


def field_groups(actor) -> list[tuple[str, list[FieldSpec]]]:
    """The contact's fields in the groups the form and the detail page show."""
    status_choices = [(s.name, s.name) for s in contacts.statuses()]
    owner_choices = [("", "No owner")] + [(str(u.id), u.full_name) for u in records.owner_choices()]
    account_choices = [("", "No account")] + [(str(a.id), a.name) for a in accounts.account_choices(actor)]
    groups = [
        ("Name", [FieldSpec("prefix", "Prefix", maxlength=20, help="Mr, Ms, Dr, …"),
                  FieldSpec("first_name", "First name", maxlength=120),
                  FieldSpec("last_name", "Last name", maxlength=120),
                  FieldSpec("suffix", "Suffix", maxlength=20)]),
        ("Details", [FieldSpec("email", "E-mail", "email", maxlength=191),
                     FieldSpec("mobile_phone", "Mobile", "tel", maxlength=40),
                     FieldSpec("work_phone", "Work phone", "tel", maxlength=40),
                     FieldSpec("home_phone", "Home phone", "tel", maxlength=40),
                     FieldSpec("status", "Status", "select", status_choices),
                     FieldSpec("account_id", "Account", "select", account_choices),
                     FieldSpec("owner_id", "Owner", "select", owner_choices),
                     FieldSpec("tags", "Tags", "tags", help="Separate tags with commas."),
                     FieldSpec("source", "Source", maxlength=100, help="Where they came from, e.g. referral."),
                     FieldSpec("do_not_contact", "Do not contact", "checkbox"),
                     FieldSpec("notes", "Notes", "textarea", maxlength=10000)]),
        ("Address", [FieldSpec(name, label, maxlength=limit) for name, label, limit in ADDRESS]),
        ("Secondary address", [FieldSpec(f"secaddr_{name}", label, maxlength=limit) for name, label, limit in ADDRESS]),
    ]
    custom = custom_specs("contact")
    if custom:
        groups.insert(2, ("Custom fields", custom))
    return groups


def all_specs(actor) -> list[FieldSpec]:
    return [spec for _, specs in field_groups(actor) for spec in specs]


def _spec(actor, name: str) -> FieldSpec:
    for spec in all_specs(actor):
        if spec.name == name:
            return spec
    abort(404)


def _list_context(actor, params, error=None):
    page = contacts.list_contacts(actor, params)
    statuses, owners = contacts.statuses(), records.owner_choices()
    options = {
        "status": [(s.name, s.name) for s in statuses],
        "owner": [(u.id, u.full_name) for u in owners],
        "tag": [(t, t) for t in contacts.tag_names_in_use()],
        "account": [(a.id, a.name) for a in accounts.account_choices(actor)],
    }
    return dict(page=page, params=params, error=error, statuses=statuses, owners=owners, options=options)


@bp.route("/")
@login_required
def index():
    actor = browser_actor()
    params, error = CONTACT_LIST.parse_for_page(request.args)
    try:
        context = _list_context(actor, params, error)
    except ValidationFailed as exc:  # an unknown custom-field filter in the URL
        params, _ = CONTACT_LIST.parse_for_page({})
        context = _list_context(actor, params, exc.message)
    return render_page("pipelines/contacts/index.html", block="results", **context)


@bp.route("/export")
@login_required
def export():
    """Every contact matching the list's search and filters, as CSV (a job when large)."""
    return csv_or_progress(exports.export_now_or_later(browser_actor(), "contacts", request.args))


@bp.route("/bulk", methods=["POST"])
@login_required
def bulk():
    return bulk_action(browser_actor(), kind="contact", selected=contacts.selected_contacts,
                       matching=contacts.matching_contact_ids, list_spec=CONTACT_LIST, bulk_delete=contacts.bulk_delete, bulk_update=contacts.bulk_update,
                       changes={"assign": ("owner_id", "owner"), "status": ("status", "status")})


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    actor = browser_actor()
    require(actor, "contacts.create")
    errors, posted = {}, None
    if request.method == "POST":
        posted = request.form
        try:
            contact = contacts.create_contact(actor, values_from_form(request.form, all_specs(actor)))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = errors_by_input(exc.errors)
        else:
            flash(f"Contact \u201c{contact.name}\u201d added.", "success")
            return redirect(url_for("contacts.detail", contact_id=contact.id), code=303)
    preset = {"account_id": request.args.get("account_id", ""), "owner_id": str(actor.user.id)}
    return render_page("pipelines/contacts/form.html", contact=None, groups=field_groups(actor), errors=errors,
                       posted=posted or preset, status=422 if errors else 200)


@bp.route("/<id:contact_id>")
@login_required
def detail(contact_id: int):
    actor = browser_actor()
    contact = contacts.get_contact(actor, contact_id)
    return render_page("pipelines/contacts/detail.html", contact=contact, groups=field_groups(actor),
                       deals=records.related_deals(actor, contact_id=contact.id))


@bp.route("/<id:contact_id>/edit", methods=["GET", "POST"])
@login_required
def edit(contact_id: int):
    """The whole contact in one form: what works without JavaScript."""
    actor = browser_actor()
    contact = contacts.get_contact(actor, contact_id)
    require(actor, "contacts.update")
    errors, status, posted = {}, 200, None
    if request.method == "POST":
        posted = request.form
        try:
            contacts.update_contact(actor, contact_id, values_from_form(request.form, all_specs(actor)),
                                    form_version(request.form))
        except (ValidationFailed, PreconditionFailed) as exc:
            db.session.rollback()
            errors = errors_by_input(exc.errors) or {"_form": [exc.message]}
            status = 409 if isinstance(exc, PreconditionFailed) else 422
            contact = contacts.get_contact(actor, contact_id)
        else:
            flash(f"Contact \u201c{contact.name}\u201d saved.", "success")
            return redirect(url_for("contacts.detail", contact_id=contact_id), code=303)
    return render_page("pipelines/contacts/form.html", contact=contact, groups=field_groups(actor), errors=errors,
                       posted=posted, status=status)



@bp.route("/<id:contact_id>/fields/<name>", methods=["GET", "POST"])
@login_required
def edit_field(contact_id: int, name: str):
    """One field edited in place: GET the input, POST it; the line swaps back on success."""
    actor = browser_actor()
    return edit_one_field(actor, contact_id, _spec(actor, name), kind="contact",
                          load=contacts.get_contact, save=contacts.update_contact,
                          permission="contacts.update", detail_url=url_for("contacts.detail", contact_id=contact_id))


@bp.route("/<id:contact_id>/delete", methods=["POST"])
@login_required
def delete(contact_id: int):
    actor = browser_actor()
    name = contacts.get_contact(actor, contact_id).name
    contacts.delete_contact(actor, contact_id)
    flash(f"Contact \u201c{name}\u201d deleted.", "success")
    return htmx_redirect(url_for("contacts.index"))
