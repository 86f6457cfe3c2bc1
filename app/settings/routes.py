"""Settings: API tokens of the signed-in user (and, through Team, of any user), the
business settings, and the audit log."""
from datetime import timedelta

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import login_required

from app.audit import services as audit_log
from app.auth import tokens as token_service
from app.core.audit import ACTIONS, ENTITY_TYPES
from app.core.errors import Forbidden, ValidationFailed
from app.core.htmx import is_htmx, render_page, with_trigger
from app.core.models import utcnow
from app.core.permissions import CREDENTIAL_ABILITIES, PERMISSION_GROUPS, require
from app.core.web import apply_errors, browser_actor
from app.extensions import db
from app.settings.forms import BusinessForm, TokenForm
from app.team import business as business_service

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.route("/")
@login_required
def index():
    return redirect(url_for("settings.tokens"))


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    return manage_tokens(browser_actor().user.id, url_for("settings.tokens"))


def manage_tokens(user_id: int, page_url: str, template: str = "settings/tokens.html", **extra):
    """List, create (shown once) and link to revoke the tokens of `user_id`."""
    actor = browser_actor()
    owner = token_service.token_owner(actor, user_id)
    form = TokenForm()
    form.abilities.choices = _ability_choices(actor)
    new_token = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                _, new_token = token_service.create_token(
                    actor, owner.id, form.name.data, form.abilities.data or None, _expiry(form.expires_in.data)
                )
            except (ValidationFailed, Forbidden) as exc:  # a bad field, or more than the actor holds
                apply_errors(form, exc)
                status = exc.status
            else:
                db.session.flush()
                form = TokenForm(formdata=None)
                form.abilities.choices = _ability_choices(actor)
        else:
            status = 422
    context = dict(owner=owner, form=form, new_token=new_token, page_url=page_url, ability_groups=_ability_groups(actor),
                   token_list=token_service.list_tokens(actor, owner.id), now=utcnow(), **extra)
    return render_page(template, block="token_panel", status=status, **context)


def _ability_choices(actor) -> list[str]:
    return token_service.ability_choices(actor)


def _ability_groups(actor) -> list[tuple[str, list[tuple[str, str]]]]:
    """Permissions the actor holds, by area, for the abilities checkboxes."""
    choices = set(_ability_choices(actor))
    areas = sorted(PERMISSION_GROUPS.items()) + [("Tokens", CREDENTIAL_ABILITIES)]
    groups = []
    for area, names in areas:
        held = [(name, label) for name, label in sorted(names.items()) if name in choices]
        if held:
            groups.append((area, held))
    return groups


def _expiry(days: str | None):
    return utcnow() + timedelta(days=int(days)) if days else None


@bp.route("/tokens/<id:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    # Another user's token out of reach is a 403 page that says why (app.team.escalation).
    token = token_service.revoke_token(browser_actor(), token_id)
    message = f"Token \u201c{token.name}\u201d revoked. Calls made with it are now refused."
    if is_htmx():
        db.session.flush()
        response = render_page("settings/_token_row.html", token=token, now=utcnow())
        return with_trigger(response, "trellis:flash", {"message": message, "level": "success"})
    flash(message, "success")
    back = request.form.get("next") or url_for("settings.tokens")
    return redirect(back if back.startswith("/") and not back.startswith("//") else url_for("settings.tokens"))


@bp.route("/business", methods=["GET", "POST"])
@login_required
def business():
    actor = browser_actor()
    require(actor, "business.settings")
    current = business_service.get_business(actor)
    form = BusinessForm(obj=current)
    form.timezone.choices = business_service.time_zone_names()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            business_service.update_business(actor, form.values())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash("Business settings saved.", "success")
            return redirect(url_for("settings.business"))
    return render_page("settings/business.html", form=form, business=current, status=status,
                       staff_count=business_service.staff_user_count())


@bp.route("/audit-log")
@login_required
def audit():
    actor = browser_actor()
    params, error = audit_log.parse_params_for_page(request.args)
    page = audit_log.list_entries(actor, params)
    return render_page("settings/audit_log.html", block="results", page=page, params=params, error=error,
                       entity_types=sorted(ENTITY_TYPES.items(), key=lambda item: item[1]), actions=ACTIONS,
                       actors=audit_log.actor_choices(), changes=audit_log.changes,
                       credentials=audit_log.CREDENTIAL_LABELS, zone=actor.user.business.timezone,
                       local_time=audit_log.local_time)
