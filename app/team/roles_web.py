"""Roles screens: list with user counts, create/edit with grouped permission checkboxes,
delete. The rules (locked defaults, the Cashier, names) live in app.team.roles."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField

from app.core.errors import Forbidden, ValidationFailed
from app.core.htmx import htmx_redirect, render_page
from app.core.permissions import PERMISSION_GROUPS, require
from app.core.web import apply_errors, browser_actor
from app.extensions import db
from app.team import roles

bp = Blueprint("roles", __name__, url_prefix="/team/roles")

OTHER_GROUP = "Other"


class RoleForm(FlaskForm):
    # No validators: the service owns the rules and its errors land next to the fields.
    name = StringField("Name")
    is_service_staff = BooleanField("Service staff", description="People with this role can be picked as service staff.")
    # Any name is kept, including ones created through the API that no area registers.
    permissions = SelectMultipleField("Permissions", choices=[], validate_choice=False)

    def values(self) -> dict:
        return {"name": self.name.data or "", "is_service_staff": bool(self.is_service_staff.data),
                "permissions": list(self.permissions.data or [])}


def permission_groups(selected) -> list[tuple[str, list[tuple[str, str]]]]:
    """(area, [(name, description)]) for the checkboxes, plus an "Other" group holding the
    selected names no area registers, so saving the form does not drop them."""
    groups = [(area, list(names.items())) for area, names in PERMISSION_GROUPS.items()]
    known = {name for _, names in groups for name, _ in names}
    unknown = sorted(set(selected) - known)
    if unknown:
        groups.append((OTHER_GROUP, [(name, "Not registered by any area") for name in unknown]))
    return groups


@bp.route("/")
@login_required
def index():
    actor = browser_actor()
    params, error = roles.ROLE_LIST.parse_for_page(request.args)
    page = roles.list_roles(actor, params)
    return render_page("team/roles/index.html", block="results", page=page, params=params, error=error,
                       is_locked=_is_locked)


def _is_locked(role) -> bool:
    return role.is_default and not roles.is_business_cashier(role)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    actor = browser_actor()
    require(actor, "roles.create")
    form = RoleForm()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            role = roles.create_role(actor, form.values())
        except (ValidationFailed, Forbidden) as exc:
            apply_errors(form, exc)
            status = exc.status
        else:
            flash(f"Role \u201c{role.display_name}\u201d added.", "success")
            return redirect(url_for("roles.index"))
    return _render_form(form, None, status)


@bp.route("/<id:role_id>/edit", methods=["GET", "POST"])
@login_required
def edit(role_id: int):
    actor = browser_actor()
    role = roles.get_role(actor, role_id)
    status = 200
    if request.method == "POST":
        require(actor, "roles.update")
        form = RoleForm()
        status = 422
        if form.validate_on_submit():
            data = form.values()
            if roles.is_business_cashier(role) and not data["name"]:
                data.pop("name")  # the Cashier's name field is read-only
            try:
                roles.update_role(actor, role_id, data)
            except (ValidationFailed, Forbidden) as exc:
                apply_errors(form, exc)
                status = exc.status
                role = roles.get_role(actor, role_id)
            else:
                flash(f"Role \u201c{role.display_name}\u201d saved.", "success")
                return redirect(url_for("roles.index"))
    else:
        form = _form_for(role)
    return _render_form(form, role, status)


def _form_for(role) -> RoleForm:
    return RoleForm(formdata=None, data={"name": role.display_name, "is_service_staff": role.is_service_staff,
                                         "permissions": role.permission_names})


def _render_form(form: RoleForm, role, status: int):
    actor = browser_actor()
    locked = role is not None and _is_locked(role)
    read_only = locked or (role is not None and not actor.can("roles.update"))
    if read_only:
        # Show what the role holds, not what a refused POST sent; keep the refusal.
        errors, form = form.form_errors, _form_for(role)
        form.form_errors.extend(errors)
    selected = set(form.permissions.data or [])
    if role is not None and role.is_admin:
        selected |= {name for names in PERMISSION_GROUPS.values() for name in names}  # Admin holds them all
    return render_page("team/roles/form.html", form=form, role=role, locked=locked, read_only=read_only,
                       is_cashier=role is not None and roles.is_business_cashier(role),
                       groups=permission_groups(selected), selected=selected, status=status)


@bp.route("/<id:role_id>/delete", methods=["POST"])
@login_required
def delete(role_id: int):
    actor = browser_actor()
    name = roles.get_role(actor, role_id).display_name
    require(actor, "roles.delete")
    try:
        roles.delete_role(actor, role_id)
    except (ValidationFailed, Forbidden) as exc:  # in use, locked, demo mode
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        flash(f"Role \u201c{name}\u201d deleted.", "success")
    return htmx_redirect(url_for("roles.index"))
