from flask import Blueprint, redirect, render_template, url_for
from flask_login import login_required

from app.dashboard.services import dashboard_numbers

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@login_required
def index():
    from app.core.web import browser_actor

    return render_template("dashboard/index.html", numbers=dashboard_numbers(browser_actor()))


@bp.route("/pipelines")
@login_required
def pipelines():
    return redirect(url_for("board.board"))


@bp.route("/campaigns")
@login_required
def campaigns():
    return render_template("dashboard/coming_soon.html", area="Campaigns",
                           what="Segments, e-mail campaigns with stats, and workflows.")
