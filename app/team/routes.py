"""Team screens. The full users/roles/agents management arrives with the team issue;
the platform ships the staff list and each user's API tokens."""
from flask import Blueprint, redirect, render_template, url_for
from flask_login import login_required
from sqlalchemy import select

from app.core.permissions import require
from app.core.web import browser_actor
from app.extensions import db
from app.settings.routes import manage_tokens
from app.team.models import User

bp = Blueprint("team", __name__, url_prefix="/team")


@bp.route("/")
@login_required
def index():
    return redirect(url_for("team.users"))


@bp.route("/users")
@login_required
def users():
    actor = browser_actor()
    require(actor, "user.view", "user.create")
    stmt = (
        select(User)
        .where(User.deleted_at.is_(None), User.is_cmmsn_agnt.is_(False))
        .order_by(User.first_name, User.id)
    )
    return render_template("team/users.html", users=db.session.scalars(stmt).all())


@bp.route("/users/<id:user_id>/tokens", methods=["GET", "POST"])
@login_required
def user_tokens(user_id: int):
    return manage_tokens(user_id, url_for("team.user_tokens", user_id=user_id), template="team/user_tokens.html")
