"""Team → Users screens: list with live search, filters and sort in the URL; an inline
active switch; create/edit with role, location access and a login switch; delete; and
each user's API tokens. The rules live in app.team.users."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice

from app.core.errors import Forbidden, PaymentRequired, QuotaExceeded, ValidationFailed
from app.core.htmx import htmx_redirect, is_htmx, render_page, with_trigger
from app.core.permissions import require
from app.core.web import apply_errors, browser_actor
from app.extensions import db
from app.settings.routes import manage_tokens
from app.team import users

bp = Blueprint("team", __name__, url_prefix="/team")

LOCATION_SCOPES = (("all", "All locations"), ("locations", "Only these locations"))
# What stops a form from saving without being about one field: shown above the form.
FORM_REFUSALS = (ValidationFailed, Forbidden, PaymentRequired, QuotaExceeded)


class UserForm(FlaskForm):
    # No validators here: the service owns the rules and its messages go next to the fields.
    surname = StringField("Prefix", description="Mr, Ms, Dr, …")
    first_name = StringField("First name")
    last_name = StringField("Last name")
    email = EmailField("E-mail")
    contact_number = StringField("Contact number")
    role = SelectField("Role", choices=[], validate_choice=False)
    is_active = BooleanField("Active", default=True, description="Inactive users cannot sign in.")
    allow_login = BooleanField("Can sign in", description="Give the user a username and password.")
    username = StringField("Username", description="Leave blank and one is made from the name.")
    password = PasswordField("Password")
    # Named as the service reports its errors (location_access.scope / .location_ids).
    # Rendered as two radio buttons (LOCATION_SCOPES); the service checks the value.
    location_access = StringField("Locations", default="all")
    location_ids = SelectMultipleField("Locations", choices=[], coerce=str, validate_choice=False)
    selected_contacts = BooleanField(
        "Only selected contacts",
        description="The user sees only the contacts chosen here and their deals, whatever the role allows.")
    selected_contact_ids = SelectMultipleField("Contacts", choices=[], coerce=str, validate_choice=False)

    def values(self) -> dict:
        ids = [int(v) for v in self.location_ids.data or [] if str(v).isdecimal()]
        contact_ids = list(dict.fromkeys(int(v) for v in self.selected_contact_ids.data or [] if str(v).isdecimal()))
        return {
            "selected_contacts": bool(self.selected_contacts.data), "selected_contact_ids": contact_ids,
            "surname": self.surname.data, "first_name": self.first_name.data or "", "last_name": self.last_name.data,
            "email": self.email.data, "contact_number": self.contact_number.data, "role": self.role.data or None,
            "is_active": bool(self.is_active.data), "allow_login": bool(self.allow_login.data),
            "username": self.username.data, "password": self.password.data or None,
            "location_access": {"scope": self.location_access.data or "", "location_ids": ids},
        }


def _form_for(user) -> UserForm:
    return UserForm(formdata=None, data={
        "surname": user.surname, "first_name": user.first_name, "last_name": user.last_name, "email": user.email,
        "contact_number": user.contact_number, "role": str(user.role_id or ""), "is_active": user.status == "active",
        "allow_login": user.allow_login, "username": user.username, "location_access": user.location_scope,
        "location_ids": [str(i) for i in users.location_ids(user) or []],
        "selected_contacts": user.selected_contacts,
        "selected_contact_ids": [str(c["id"]) for c in users.contact_access(user)],
    })


def _render_form(form: UserForm, user, status: int):
    form.role.choices = [SelectChoice("", "Choose a role…")] + [
        SelectChoice(str(role.id), role.display_name)
        for role in users.assignable_roles(browser_actor(), user.role if user else None)]
    locations = users.business_locations()
    chosen_contacts = users.contacts_by_ids([int(v) for v in form.selected_contact_ids.data or [] if str(v).isdecimal()])
    return render_page("team/users/form.html", form=form, user=user, locations=locations, scopes=LOCATION_SCOPES,
                       chosen={str(v) for v in form.location_ids.data or []}, status=status,
                       chosen_contacts=chosen_contacts, sets_password=_sets_password(user),
                       min_password=users.MIN_PASSWORD_LENGTH)


def _sets_password(user) -> bool:
    """The form asks for a password when adding a user and for yourself; anyone else's is
    theirs alone, even a first one (they get a reset link instead)."""
    return user is None or user.id == browser_actor().user.id


@bp.route("/")
@login_required
def index():
    return redirect(url_for("team.users"))


@bp.route("/users", endpoint="users")
@login_required
def users_list():
    actor = browser_actor()
    params, error = users.USER_LIST.parse_for_page(request.args)
    page = users.list_users(actor, params)
    return render_page("team/users/index.html", block="results", page=page, params=params, error=error,
                       statuses=users.STATUSES, roles=users.business_roles())


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def create_user():
    actor = browser_actor()
    require(actor, "user.create")
    form = UserForm()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            user = users.create_user(actor, form.values())
        except FORM_REFUSALS as exc:
            apply_errors(form, exc)
            status = exc.status
        else:
            flash(f"User \u201c{user.full_name}\u201d added." + (f" They sign in as {user.username}."
                                                                    if user.allow_login else ""), "success")
            return redirect(url_for("team.users"))
    return _render_form(form, None, status)


@bp.route("/users/<id:user_id>/edit", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int):
    actor = browser_actor()
    user = users.user_for_edit(actor, user_id)
    form = UserForm() if request.method == "POST" else _form_for(user)
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            users.update_user(actor, user_id, form.values())
        except FORM_REFUSALS as exc:
            apply_errors(form, exc)
            status = exc.status
            user = users.user_for_edit(actor, user_id)
        else:
            flash(f"User \u201c{user.full_name}\u201d saved.", "success")
            return redirect(url_for("team.users"))
    return _render_form(form, user, status)


@bp.route("/users/contact-options")
@login_required
def contact_options():
    """The contact picker's search results: checkboxes to tick, at most 20."""
    actor = browser_actor()
    found = users.contact_options(actor, request.args.get("contact_q", ""))
    return render_template("team/users/_contact_options.html", contacts=found,
                           q=request.args.get("contact_q", "").strip())


@bp.route("/users/<id:user_id>/toggle", methods=["POST"])
@login_required
def toggle_user(user_id: int):
    """The list's active switch: htmx swaps the row; without JS, back to the list."""
    actor = browser_actor()
    require(actor, "user.update")
    try:
        user = users.toggle_active(actor, user_id)
        message, level = f"\u201c{user.full_name}\u201d is now {user.status}.", "success"
    except (ValidationFailed, Forbidden, PaymentRequired) as exc:
        db.session.rollback()
        user, message, level = users.user_for_edit(actor, user_id), exc.message, "danger"
    if is_htmx():
        response = render_page("team/users/_row.html", user=user)
        return with_trigger(response, "trellis:flash", {"message": message, "level": level})
    flash(message, level)
    return redirect(request.referrer if _same_site(request.referrer) else url_for("team.users"), code=303)


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url) and "/team/users" in url


@bp.route("/users/<id:user_id>/delete", methods=["POST"])
@login_required
def delete_user(user_id: int):
    actor = browser_actor()
    require(actor, "user.delete")
    try:
        user = users.delete_user(actor, user_id)
    except (ValidationFailed, Forbidden) as exc:  # yourself, the last admin, demo mode
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        flash(f"User \u201c{user.full_name}\u201d deleted.", "success")
    return htmx_redirect(url_for("team.users"))


@bp.route("/users/<id:user_id>/password-reset", methods=["POST"])
@login_required
def send_password_reset(user_id: int):
    """The edit screen's "Send a reset link": mails the user, never shows or sets a password."""
    actor = browser_actor()
    try:
        user = users.send_password_reset_link(
            actor, user_id, lambda token: url_for("auth.reset_password", token=token, _external=True))
    except (ValidationFailed, Forbidden) as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        flash(f"A link to reset the password was sent to {user.email}.", "success")
    back = url_for("team.edit_user", user_id=user_id) if actor.can("user.update") else url_for("team.users")
    return redirect(back, code=303)


@bp.route("/users/<id:user_id>/tokens", methods=["GET", "POST"])
@login_required
def user_tokens(user_id: int):
    return manage_tokens(user_id, url_for("team.user_tokens", user_id=user_id), template="team/user_tokens.html")
