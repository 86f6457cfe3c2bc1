"""Accounts screens: list (live search, filters, sort, pages, bulk actions), detail page
with fields edited in place plus the account's contacts and deals, create/edit, delete."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import login_required

from app.core.errors import PreconditionFailed, ValidationFailed
from app.core.htmx import htmx_redirect, render_page
from app.core.permissions import require
from app.core.web import browser_actor
from app.extensions import db
from app.pipelines import accounts, contacts, exports, records
from app.pipelines.accounts import ACCOUNT_LIST
from app.pipelines.contacts_web import ADDRESS
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

bp = Blueprint("accounts", __name__, url_prefix="/pipelines/accounts")


@bp.context_processor
def _field_helpers():
    return {"input_value": input_value, "display_value": display_value, "pretty_phone": pretty_phone}


def field_groups() -> list[tuple[str, list[FieldSpec]]]:
    owner_choices = [("", "No owner")] + [(str(u.id), u.full_name) for u in records.owner_choices()]
    groups = [
        ("Company", [FieldSpec("name", "Name", maxlength=200, required=True),
                     FieldSpec("domain", "Domain", maxlength=191, help="acme.com"),
                     FieldSpec("website", "Website", "url", maxlength=191),
                     FieldSpec("industry", "Industry", maxlength=100),
                     FieldSpec("phone", "Phone", "tel", maxlength=40),
                     FieldSpec("owner_id", "Owner", "select", owner_choices)]),
        ("Address", [FieldSpec(name, label, maxlength=limit) for name, label, limit in ADDRESS]),
    ]
    custom = custom_specs("account")
    if custom:
        groups.insert(1, ("Custom fields", custom))
    return groups


def all_specs() -> list[FieldSpec]:
    return [spec for _, specs in field_groups() for spec in specs]


def _spec(name: str) -> FieldSpec:
    for spec in all_specs():
        if spec.name == name:
            return spec
    abort(404)


def _list_context(actor, params, error=None):
    page = accounts.list_accounts(actor, params)
    owners = records.owner_choices()
    return dict(page=page, params=params, error=error, owners=owners,
                options={"owner": [(u.id, u.full_name) for u in owners]})


@bp.route("/")
@login_required
def index():
    actor = browser_actor()
    params, error = ACCOUNT_LIST.parse_for_page(request.args)
    try:
        context = _list_context(actor, params, error)
    except ValidationFailed as exc:
        params, _ = ACCOUNT_LIST.parse_for_page({})
        context = _list_context(actor, params, exc.message)
    return render_page("pipelines/accounts/index.html", block="results", **context)


@bp.route("/export")
@login_required
def export():
    """Every account matching the list's search and filters, as CSV (a job when large)."""
    return csv_or_progress(exports.export_now_or_later(browser_actor(), "accounts", request.args))


@bp.route("/bulk", methods=["POST"])
@login_required
def bulk():
    return bulk_action(browser_actor(), kind="account", selected=accounts.selected_accounts,
                       matching=accounts.matching_account_ids, list_spec=ACCOUNT_LIST, bulk_delete=accounts.bulk_delete, bulk_update=accounts.bulk_update,
                       changes={"assign": ("owner_id", "owner")})


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    actor = browser_actor()
    require(actor, "accounts.create")
    errors, posted = {}, None
    if request.method == "POST":
        posted = request.form
        try:
            account = accounts.create_account(actor, values_from_form(request.form, all_specs()))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = errors_by_input(exc.errors)
        else:
            flash(f"Account \u201c{account.name}\u201d added.", "success")
            return redirect(url_for("accounts.detail", account_id=account.id), code=303)
    return render_page("pipelines/accounts/form.html", account=None, groups=field_groups(), errors=errors,
                       posted=posted or {"owner_id": str(actor.user.id)}, status=422 if errors else 200)


@bp.route("/<id:account_id>")
@login_required
def detail(account_id: int):
    actor = browser_actor()
    account = accounts.get_account(actor, account_id)
    return render_page("pipelines/accounts/detail.html", account=account, groups=field_groups(),
                       people=contacts.contacts_of_account(actor, account.id),
                       deals=records.related_deals(actor, account_id=account.id))



@bp.route("/<id:account_id>/edit", methods=["GET", "POST"])
@login_required
def edit(account_id: int):
    actor = browser_actor()
    account = accounts.get_account(actor, account_id)
    require(actor, "accounts.update")
    errors, status, posted = {}, 200, None
    if request.method == "POST":
        posted = request.form
        try:
            accounts.update_account(actor, account_id, values_from_form(request.form, all_specs()),
                                    form_version(request.form))
        except (ValidationFailed, PreconditionFailed) as exc:
            db.session.rollback()
            errors = errors_by_input(exc.errors) or {"_form": [exc.message]}
            status = 409 if isinstance(exc, PreconditionFailed) else 422
            account = accounts.get_account(actor, account_id)
        else:
            flash(f"Account \u201c{account.name}\u201d saved.", "success")
            return redirect(url_for("accounts.detail", account_id=account_id), code=303)
    return render_page("pipelines/accounts/form.html", account=account, groups=field_groups(), errors=errors,
                       posted=posted, status=status)


@bp.route("/<id:account_id>/fields/<name>", methods=["GET", "POST"])
@login_required
def edit_field(account_id: int, name: str):
    """One field edited in place: GET the input, POST it; the line swaps back on success."""
    actor = browser_actor()
    return edit_one_field(actor, account_id, _spec(name), kind="account",
                          load=accounts.get_account, save=accounts.update_account,
                          permission="accounts.update", detail_url=url_for("accounts.detail", account_id=account_id))


@bp.route("/<id:account_id>/delete", methods=["POST"])
@login_required
def delete(account_id: int):
    actor = browser_actor()
    name = accounts.get_account(actor, account_id).name
    accounts.delete_account(actor, account_id)
    flash(f"Account \u201c{name}\u201d deleted.", "success")
    return htmx_redirect(url_for("accounts.index"))
