"""Locations screens: list with live search, create/edit with inline errors, delete."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_login import login_required

from app.core.errors import PreconditionFailed, ValidationFailed
from app.core.htmx import htmx_redirect, render_page
from app.core.permissions import require
from app.core.web import apply_errors, browser_actor
from app.locations import services
from app.locations.forms import LocationForm

bp = Blueprint("locations", __name__, url_prefix="/team/locations")


@bp.route("/")
@login_required
def index():
    actor = browser_actor()
    params, error = services.LOCATION_LIST.parse_for_page(request.args)
    page = services.list_locations(actor, params)
    return render_page("locations/index.html", block="results", page=page, params=params, error=error,
                       spec=services.LOCATION_LIST)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    actor = browser_actor()
    require(actor, "locations.create")
    form = LocationForm()
    if form.validate_on_submit():
        try:
            location = services.create_location(actor, form.values())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash(f"Location \u201c{location.name}\u201d added.", "success")
            return redirect(url_for("locations.index"))
    return render_page("locations/form.html", form=form, location=None,
                       status=422 if request.method == "POST" else 200)


@bp.route("/<id:location_id>/edit", methods=["GET", "POST"])
@login_required
def edit(location_id: int):
    actor = browser_actor()
    location = services.get_location(actor, location_id)
    require(actor, "locations.update")
    form = LocationForm(obj=location)
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            services.update_location(actor, location_id, form.values(), form.loaded_version())
        except (ValidationFailed, PreconditionFailed) as exc:
            apply_errors(form, exc)
            status = 409 if isinstance(exc, PreconditionFailed) else 422
        else:
            flash(f"Location \u201c{location.name}\u201d saved.", "success")
            return redirect(url_for("locations.index"))
    return render_page("locations/form.html", form=form, location=location, status=status)


@bp.route("/<id:location_id>/delete", methods=["POST"])
@login_required
def delete(location_id: int):
    actor = browser_actor()
    name = services.get_location(actor, location_id).name
    services.delete_location(actor, location_id)
    flash(f"Location \u201c{name}\u201d deleted.", "success")
    return htmx_redirect(url_for("locations.index"))
